// The certs-script's cluster calls (src/certs/cluster.ts, over the small client: `lameduck certs`
// and the renewal inside serve) against a loopback HTTPS server that answers as the API server does
// (paths, verbs, Status bodies); test/e2e/install.test.ts and test/e2e/renew.test.ts run them against a real one.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connectCluster } from '../../../src/certs/cluster.js'
import type { ClusterApi } from '../../../src/certs/cluster-api.js'
import { failure as status, fakeApiServer, kubeconfigYaml, writeKubeconfig, type ApiAnswer, type ApiRequest } from '../../helpers/api-server.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')

type Handler = (request: ApiRequest) => ApiAnswer

async function connect (t: Test, handler: Handler): Promise<{ api: ClusterApi, requests: ApiRequest[], url: string }> {
  const { url, requests } = await fakeApiServer(t, handler)
  return { api: await connectCluster({ kubeconfig: await writeKubeconfig(t, url), context: undefined }), requests, url }
}

const SECRETS = '/api/v1/namespaces/lameduck-system/secrets'
const WEBHOOK = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/lameduck'

t.test('readSecret decodes a Secret and answers undefined for a missing one', async t => {
  const { api, requests } = await connect(t, ({ url }) => url.endsWith('/lameduck-tls')
    ? { status: 200, body: { kind: 'Secret', apiVersion: 'v1', type: 'kubernetes.io/tls', metadata: { name: 'lameduck-tls', annotations: { a: 'b' } }, data: { 'tls.crt': b64('CERT') } } }
    : url.endsWith('/bare') ? { status: 200, body: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'bare' } } } : status(404, 'secrets "x" not found'))
  t.same(await api.readSecret('lameduck-system', 'lameduck-tls'), { type: 'kubernetes.io/tls', data: { 'tls.crt': 'CERT' }, annotations: { a: 'b' } })
  t.same(await api.readSecret('lameduck-system', 'bare'), { type: 'Opaque', data: {}, annotations: {} })
  t.equal(await api.readSecret('lameduck-system', 'absent'), undefined)
  t.same(requests.map(r => `${r.method} ${r.url}`), [`GET ${SECRETS}/lameduck-tls`, `GET ${SECRETS}/bare`, `GET ${SECRETS}/absent`])
})

t.test('writeSecret creates a missing Secret', async t => {
  const { api, requests } = await connect(t, ({ method }) => method === 'GET' ? status(404, 'not found') : { status: 201, body: { kind: 'Secret', apiVersion: 'v1' } })
  t.equal(await api.writeSecret('lameduck-system', 'lameduck-tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'CERT' }, annotations: { a: 'b' } }), 'created')
  t.match(requests[1], { method: 'POST', url: SECRETS, body: { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'lameduck-tls', namespace: 'lameduck-system', annotations: { a: 'b' } }, data: { 'tls.crt': b64('CERT') } } })
})

t.test('writeSecret replaces an existing one: its labels and resourceVersion kept, annotations merged, managedFields left to the server', async t => {
  const existing = { kind: 'Secret', apiVersion: 'v1', type: 'kubernetes.io/tls', metadata: { name: 'lameduck-tls', resourceVersion: '42', labels: { team: 'x' }, annotations: { old: '1', a: 'old' }, managedFields: [{ manager: 'kubectl' }] }, data: { stale: b64('x') } }
  const { api, requests } = await connect(t, ({ method }) => method === 'GET' ? { status: 200, body: existing } : { status: 200, body: existing })
  t.equal(await api.writeSecret('lameduck-system', 'lameduck-tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'CERT' }, annotations: { a: 'b' } }), 'updated')
  const put = requests[1]!
  t.match(put, { method: 'PUT', url: `${SECRETS}/lameduck-tls` })
  t.same(put.body, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'lameduck-tls', namespace: 'lameduck-system', resourceVersion: '42', labels: { team: 'x' }, annotations: { old: '1', a: 'b' } }, data: { 'tls.crt': b64('CERT') } })
})

t.test("writeSecret keeps an existing Secret's type (the chart ships them empty, as Opaque), and leaves alone one of another kind", async t => {
  const types: Record<string, string> = { opaque: 'Opaque', token: 'kubernetes.io/service-account-token' }
  const typeOf = (url: string): Record<string, string> => {
    const type = types[url.split('/').pop()!]
    return type === undefined ? {} : { type }
  }
  const secretAt = (url: string): unknown =>
    ({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'x' }, ...typeOf(url) })
  const { api, requests } = await connect(t, ({ url }) => ({ status: 200, body: secretAt(url) }))
  const content = { type: 'kubernetes.io/tls', data: { 'tls.crt': 'C' }, annotations: {} }
  t.equal(await api.writeSecret('lameduck-system', 'opaque', content), 'updated')
  t.match(requests[1], { method: 'PUT', body: { type: 'Opaque', data: { 'tls.crt': b64('C') } } }, 'Opaque, as it was')
  await api.writeSecret('lameduck-system', 'untyped', { type: 'kubernetes.io/tls', data: {}, annotations: {} })
  t.match(requests[3], { method: 'PUT', body: { type: 'Opaque' } }, 'no type is Opaque')
  await t.rejects(api.writeSecret('lameduck-system', 'token', { type: 'kubernetes.io/tls', data: {}, annotations: {} }),
    { message: 'writing Secret lameduck-system/token: it has type kubernetes.io/service-account-token, which cannot hold a key pair: delete it and run again' })
  t.equal(requests.length, 5, 'nothing written to it')
})

t.test('writeSecret says why the API server refused: a missing namespace, a conflict', async t => {
  const { api } = await connect(t, ({ method }) => method === 'GET' ? status(404, 'nope') : status(404, 'namespaces "lameduck-system" not found'))
  await t.rejects(api.writeSecret('lameduck-system', 's', { type: 'kubernetes.io/tls', data: {}, annotations: {} }),
    { message: 'writing Secret lameduck-system/s: the API server answered 404: namespaces "lameduck-system" not found' })
  const conflict = await connect(t, ({ method }) => method === 'GET' ? { status: 200, body: { kind: 'Secret', apiVersion: 'v1', type: 'kubernetes.io/tls', metadata: { name: 's' } } } : status(409, 'the object has been modified'))
  await t.rejects(conflict.api.writeSecret('lameduck-system', 's', { type: 'kubernetes.io/tls', data: {}, annotations: {} }),
    { message: 'writing Secret lameduck-system/s: the API server answered 409: the object has been modified' })
})

t.test('readWebhookConfiguration decodes every webhook\'s caBundle', async t => {
  const { api, requests } = await connect(t, () => ({
    status: 200,
    body: { kind: 'MutatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1', metadata: { name: 'lameduck' }, webhooks: [
      { name: 'pods.lameduck.dev', clientConfig: { caBundle: b64('PEM') }, sideEffects: 'None', admissionReviewVersions: ['v1'] },
      { name: 'other.lameduck.dev', clientConfig: {}, sideEffects: 'None', admissionReviewVersions: ['v1'] }
    ] }
  }))
  t.same(await api.readWebhookConfiguration('lameduck'), { name: 'lameduck', webhooks: [{ name: 'pods.lameduck.dev', caBundle: 'PEM' }, { name: 'other.lameduck.dev', caBundle: '' }] })
  t.same(requests.map(r => `${r.method} ${r.url}`), [`GET ${WEBHOOK}`])
})

t.test('readWebhookConfiguration: a missing one says to install lameduck; an empty one is an error too', async t => {
  const missing = await connect(t, () => status(404, 'not found'))
  await t.rejects(missing.api.readWebhookConfiguration('lameduck'),
    { message: 'reading MutatingWebhookConfiguration lameduck: it does not exist; install lameduck first (helm install, or kubectl apply -k manifests/), or name it with --webhook' })
  const empty = await connect(t, () => ({ status: 200, body: { kind: 'MutatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1', metadata: { name: 'lameduck' } } }))
  await t.rejects(empty.api.readWebhookConfiguration('lameduck'), { message: 'reading MutatingWebhookConfiguration lameduck: it has no webhooks' })
})

t.test('writeCaBundle sends one JSON patch that checks each webhook by name and sets its caBundle', async t => {
  const { api, requests } = await connect(t, () => ({ status: 200, body: { kind: 'MutatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1', metadata: { name: 'lameduck' } } }))
  await api.writeCaBundle({ name: 'lameduck', webhooks: [{ name: 'a', caBundle: '' }, { name: 'b', caBundle: 'x' }] }, 'BUNDLE')
  t.match(requests[0], { method: 'PATCH', url: WEBHOOK, contentType: 'application/json-patch+json' })
  t.same(requests[0]!.body, [
    { op: 'test', path: '/webhooks/0/name', value: 'a' },
    { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: b64('BUNDLE') },
    { op: 'test', path: '/webhooks/1/name', value: 'b' },
    { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: b64('BUNDLE') }
  ])
})

t.test('refusals are one line: credentials, permissions, other answers', async t => {
  const answers: Array<[{ status: number, body?: unknown }, string]> = [
    [{ status: 401, body: '' }, 'reading Secret lameduck-system/s: the API server did not accept the credentials (401)'],
    [status(403, 'secrets "s" is forbidden: User "bob" cannot get resource "secrets"'), 'reading Secret lameduck-system/s: forbidden (403): secrets "s" is forbidden: User "bob" cannot get resource "secrets"'],
    [{ status: 500, body: 'upstream broke\nmore detail' }, 'reading Secret lameduck-system/s: the API server answered 500: upstream broke'],
    [{ status: 503, body: ' ' }, 'reading Secret lameduck-system/s: the API server answered 503'],
    [{ status: 502, body: '{"kind":"Status"}' }, 'reading Secret lameduck-system/s: the API server answered 502: {"kind":"Status"}']
  ]
  for (const [answer, message] of answers) {
    const { api } = await connect(t, () => answer)
    await t.rejects(api.readSecret('lameduck-system', 's'), { message }, String(answer.status))
  }
})

t.test('an API server that is not there: cannot reach it, naming it', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 200 }))
  // A port nothing listens on (not 1: fetch refuses that one as a "bad port" before connecting).
  const spare = createServer().listen(0, '127.0.0.1')
  await once(spare, 'listening')
  const closed = url.replace(/:\d+$/, `:${(spare.address() as AddressInfo).port}`)
  await new Promise(resolve => spare.close(resolve))
  const file = join(t.testdir({}), 'kubeconfig')
  await writeFile(file, kubeconfigYaml(closed))
  const api = await connectCluster({ kubeconfig: file, context: undefined })
  t.equal(api.server, closed)
  await t.rejects(api.readWebhookConfiguration('lameduck'), { message: new RegExp(`^reading MutatingWebhookConfiguration lameduck: cannot reach the API server at ${closed}: .*ECONNREFUSED`) })
})

t.test('kubeconfig: unreadable, an unknown --context, a context without a cluster, a named context, the default', async t => {
  const dir = t.testdir({})
  await t.rejects(connectCluster({ kubeconfig: join(dir, 'absent'), context: undefined }), { message: new RegExp(`^cannot load kubeconfig ${join(dir, 'absent')}: ENOENT`) })
  const file = join(dir, 'kubeconfig')
  // Context "other" names a cluster the file does not define.
  await writeFile(file, kubeconfigYaml('https://127.0.0.1:1', '- name: other\n  context: {cluster: elsewhere, user: admin}\n'))
  await t.rejects(connectCluster({ kubeconfig: file, context: 'nope' }), { message: `kubeconfig ${file}: it has no context "nope"` })
  await t.rejects(connectCluster({ kubeconfig: file, context: 'other' }), { message: `kubeconfig ${file}: it has no cluster "elsewhere"` })
  t.equal((await connectCluster({ kubeconfig: file, context: 'test' })).server, 'https://127.0.0.1:1')
  const saved = process.env.KUBECONFIG
  process.env.KUBECONFIG = file
  t.teardown(() => { if (saved === undefined) delete process.env.KUBECONFIG; else process.env.KUBECONFIG = saved })
  t.equal((await connectCluster({ kubeconfig: undefined, context: undefined })).server, 'https://127.0.0.1:1', 'KUBECONFIG when no file is named')
})
