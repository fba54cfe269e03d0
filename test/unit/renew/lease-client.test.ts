// The renewal Lease over the small client (src/kube/) against a loopback HTTPS server that answers as the
// API server does; test/e2e/renew.test.ts runs it against a real one.
import t, { type Test } from 'tap'
import { connectLease } from '../../../src/renew/lease-client.js'
import { kubeClientFromFile } from '../../helpers/kube-client.js'
import { failure, fakeApiServer, writeKubeconfig, type ApiAnswer, type ApiRequest } from '../../helpers/api-server.js'

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/lameduck-system/leases/lameduck-renew'
const stored = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lameduck-renew', namespace: 'lameduck-system', resourceVersion: '7', labels: { app: 'x' }, managedFields: [{ manager: 'kubectl' }] }, spec: { holderIdentity: 'a', renewTime: '2030-01-01T00:00:00.000000Z', leaseDurationSeconds: 60, leaseTransitions: 2 } }

async function connect (
  t: Test,
  handler: (r: ApiRequest) => ApiAnswer
): Promise<{ api: ReturnType<typeof connectLease>, requests: ApiRequest[] }> {
  const { url, requests } = await fakeApiServer(t, handler)
  const config = await kubeClientFromFile(t, await writeKubeconfig(t, url))
  return { api: connectLease(config, 'lameduck-system', 'lameduck-renew'), requests }
}

t.test('reads the Lease and writes it over the version read, keeping its metadata', async t => {
  const { api, requests } = await connect(t, ({ method }) => ({ status: 200, body: method === 'GET' ? stored : { ...stored, metadata: { ...stored.metadata, resourceVersion: '8' } } }))
  t.equal(api.what, 'Lease lameduck-system/lameduck-renew')
  const lease = await api.read()
  t.same(lease, { holder: 'a', renewTime: new Date('2030-01-01T00:00:00Z'), durationSeconds: 60, transitions: 2, resourceVersion: '7' })
  t.equal(await api.write(lease, { holder: 'b', renewTime: new Date('2030-01-01T00:01:00Z'), durationSeconds: 60, transitions: 3 }), true)
  t.match(requests[1], { method: 'PUT', url: LEASE })
  t.same(requests[1]!.body, {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: 'lameduck-renew', namespace: 'lameduck-system', resourceVersion: '7', labels: { app: 'x' } },
    spec: { holderIdentity: 'b', renewTime: '2030-01-01T00:01:00.000000Z', acquireTime: '2030-01-01T00:01:00.000000Z', leaseDurationSeconds: 60, leaseTransitions: 3 }
  })
  t.equal(
    await api.write(lease, { holder: undefined, renewTime: undefined, durationSeconds: 60, transitions: 3 }),
    true
  )
  t.same((requests[2]!.body as { spec: unknown }).spec, { leaseDurationSeconds: 60, leaseTransitions: 3 }, 'given back: no holder, no times')
})

t.test('an empty Lease, as the manifests ship it', async t => {
  const { api } = await connect(t, () => ({ status: 200, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lameduck-renew' } } }))
  t.same(await api.read(), { holder: undefined, renewTime: undefined, durationSeconds: undefined, transitions: 0, resourceVersion: '' })
})

t.test('a conflict is a lost race; anything else is an error that says what failed', async t => {
  const { api } = await connect(t, ({ method, url }) => method === 'GET'
    ? (url.endsWith('/lameduck-renew') ? { status: 200, body: stored } : failure(404, 'not found'))
    : failure(url.includes('conflict') ? 409 : 403, 'leases.coordination.k8s.io "lameduck-renew" is forbidden'))
  const lease = await api.read()
  await t.rejects(api.write(lease, { holder: 'b', renewTime: new Date(), durationSeconds: 60, transitions: 3 }), /^writing Lease lameduck-system\/lameduck-renew: forbidden \(403\): leases/)
  const { url } = await fakeApiServer(t, () => failure(409, 'the object has been modified'))
  const conflicted = connectLease(await kubeClientFromFile(t, await writeKubeconfig(t, url)), 'lameduck-system', 'lameduck-renew')
  t.equal(await conflicted.write(lease, { holder: 'b', renewTime: new Date(), durationSeconds: 60, transitions: 3 }), false)
  const { url: absent } = await fakeApiServer(t, () => failure(404, 'not found'))
  const missing = connectLease(await kubeClientFromFile(t, await writeKubeconfig(t, absent)), 'lameduck-system', 'lameduck-renew')
  await t.rejects(missing.read(), /^reading Lease lameduck-system\/lameduck-renew: it does not exist; the chart and manifests\/ install it/)
  const { url: broken } = await fakeApiServer(t, () => failure(500, 'etcd down'))
  const failing = connectLease(await kubeClientFromFile(t, await writeKubeconfig(t, broken)), 'lameduck-system', 'lameduck-renew')
  await t.rejects(failing.read(), /^reading Lease lameduck-system\/lameduck-renew: the API server answered 500: etcd down$/)
})
