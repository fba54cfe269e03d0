import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { failure, fakeApiServer, writeKubeconfig } from '../../helpers/api-server.js'
import pino from 'pino'
import { kubeClientFromFile } from '../../helpers/kube-client.js'
import { certsOptionsFor, startRenewal } from '../../../src/renew/start.js'
import { readServeConfig } from '../../../src/serve/config.js'
import { readCertsOptions } from '../../../src/certs/flags.js'

t.test('the renewal runs lameduck certs --apply with serve\'s names, validities and overlap', async t => {
  const names = { namespace: 'lameduck-system', tlsSecret: undefined, webhookConfiguration: 'lameduck' }
  const times = { renewValidity: 90, renewCaValidity: 240, renewOverlap: 20 }
  const options = certsOptionsFor({ kubeconfig: undefined, ...names, ...times })
  const expected = { ...readCertsOptions(['--apply']), validityMs: 90_000, caValidityMs: 240_000, overlapMs: 20_000 }
  t.same(options, expected, 'the manifests\' names are the defaults')
  const cluster = certsOptionsFor({ kubeconfig: 'k.yaml', ...names, ...times }).cluster
  t.same(cluster, { kubeconfig: 'k.yaml', context: undefined }, 'serve\'s kubeconfig')
  const names2 = { namespace: 'hooks', tlsSecret: 'pair', webhookConfiguration: 'lameduck-2' }
  const elsewhere = certsOptionsFor({ kubeconfig: undefined, ...names2, ...times })
  t.match(elsewhere, { namespace: 'hooks', secret: 'pair', caSecret: 'lameduck-ca', webhook: 'lameduck-2' },
    'serve\'s --namespace, --tls-secret and --webhook-configuration')
})

t.test('off (the default): no run, even with a cluster at hand, where an \'on\' one would start at once', async t => {
  const { url, requests } = await fakeApiServer(t, () => failure(404, 'not found'))
  const file = await writeKubeconfig(t, url)
  let counted = 0
  const metrics = { renewed: () => { counted++ }, renewalFailed: () => { counted++ } }
  const config = readServeConfig(['--tls-cert', 'c', '--tls-key', 'k', '--kubeconfig', file], {})
  const renewer = startRenewal(config, pino({ level: 'silent' }), metrics, await kubeClientFromFile(t, file))
  // A renewer that is on reads the Lease at once (and fails here, counting it): give it the time to.
  for (let i = 0; i < 10 && requests.length === 0; i++) await sleep(50)
  await renewer.close()
  t.same(requests, [], 'the API server was asked nothing')
  t.equal(counted, 0, 'no run, no failure counted')
})

t.test('on without a cluster client: a bug of the caller, said at once', async t => {
  const config = readServeConfig(['--tls-cert', 'c', '--tls-key', 'k', '--renew-certs'], {})
  t.throws(() => startRenewal(config, pino({ level: 'silent' }), { renewed: () => {}, renewalFailed: () => {} }, undefined), { message: '--renew-certs needs a cluster' })
})

t.test('on: each run takes the Lease, runs the certificate code against the cluster, and counts a failure', async t => {
  let lease: unknown = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lameduck-renew', namespace: 'lameduck-system', resourceVersion: '1' }, spec: {} }
  const { url, requests } = await fakeApiServer(t, ({ method, url, body }) => {
    if (!url.includes('/leases/lameduck-renew')) return failure(404, 'not found')
    if (method === 'PUT') lease = body
    return { status: 200, body: lease }
  })
  const file = await writeKubeconfig(t, url)
  const config = readServeConfig(['--tls-cert', 'c', '--tls-key', 'k', '--renew-certs', '--kubeconfig', file], {})
  let failures = 0
  const renewer = startRenewal(config, pino({ level: 'silent' }), { renewed: () => { t.fail('renewed') }, renewalFailed: () => { failures++ } }, await kubeClientFromFile(t, file))
  for (let i = 0; i < 100 && failures === 0; i++) await sleep(50)
  await renewer.close()
  t.equal(failures, 1, 'no webhook configuration in this cluster: a failed run')
  t.match(requests.map(r => `${r.method} ${r.url}`), ['GET /apis/coordination.k8s.io/v1/namespaces/lameduck-system/leases/lameduck-renew', 'PUT /apis/coordination.k8s.io/v1/namespaces/lameduck-system/leases/lameduck-renew', 'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/lameduck'])
  t.match(requests.at(-1), { method: 'PUT', body: { spec: { leaseDurationSeconds: 60 } } }, 'the Lease given back')
  t.notOk((requests.at(-1)!.body as { spec: { holderIdentity?: string } }).spec.holderIdentity)
})
