// The client-node side of `lameduck check` against a loopback server that answers as the API server
// does (paths, verbs, content types, Status bodies); test/e2e/check.test.ts runs it against a real one.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connectCheckCluster } from '../../../src/check/cluster.js'
import { failure as status, fakeApiServer, writeKubeconfig as kubeconfig } from '../../helpers/api-server.js'

t.test('each call goes to its API path with its verb, and the restart is a merge patch', async t => {
  const { url, requests } = await fakeApiServer(t, ({ method, url }) => {
    if (url.includes('/log')) return { status: 200, body: 'line 1\n{"a":1}\n', type: 'text/plain' }
    if (method === 'POST') return { status: 201, body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'lameduck-check-x7k2p' } } }
    if (url.includes('/pods')) return { status: 200, body: { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [{ metadata: { name: 'p1' } }] } }
    return { status: 200, body: { metadata: { name: 'web', generation: 3 } } }
  })
  const cluster = connectCheckCluster(await kubeconfig(t, url))
  t.equal(cluster.server, url)
  t.equal((await cluster.readDeployment('shop', 'web')).metadata?.generation, 3)
  await cluster.readService('shop', 'web')
  t.equal(await cluster.createJob('shop', { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'lameduck-check-' } }), 'lameduck-check-x7k2p')
  await cluster.readJob('shop', 'lameduck-check-x7k2p')
  t.same((await cluster.listPods('shop', 'job-name=lameduck-check-x7k2p')).map(p => p.metadata?.name), ['p1'])
  await cluster.patchDeployment('shop', 'web', { spec: { template: { metadata: { annotations: { a: 'b' } } } } })
  t.equal(await cluster.readLog('shop', 'p1', 'load'), 'line 1\n{"a":1}\n')
  t.same(requests.map(r => `${r.method} ${decodeURIComponent(r.url)}`), [
    'GET /apis/apps/v1/namespaces/shop/deployments/web',
    'GET /api/v1/namespaces/shop/services/web',
    'POST /apis/batch/v1/namespaces/shop/jobs',
    'GET /apis/batch/v1/namespaces/shop/jobs/lameduck-check-x7k2p',
    'GET /api/v1/namespaces/shop/pods?labelSelector=job-name=lameduck-check-x7k2p',
    'PATCH /apis/apps/v1/namespaces/shop/deployments/web',
    'GET /api/v1/namespaces/shop/pods/p1/log?container=load'
  ])
  t.equal(requests[5]!.contentType, 'application/merge-patch+json')
  t.same(requests[5]!.body, { spec: { template: { metadata: { annotations: { a: 'b' } } } } })
  t.ok(requests.every(r => r.authorization === 'Bearer secret-token'), 'every call, the log included, carries the credentials')
})

t.test('an empty log (204 No Content, as for a Pod that never ran) reads as empty text', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 204 }))
  t.equal(await connectCheckCluster(await kubeconfig(t, url)).readLog('shop', 'p1', 'load'), '')
})

t.test('the log over a plain-HTTP API server too', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 200, body: 'ok\n', type: 'text/plain' }), true)
  t.equal(await connectCheckCluster(await kubeconfig(t, url)).readLog('shop', 'p1', 'load'), 'ok\n')
})

t.test('failures say what was being done and what the API server said', async t => {
  const { url } = await fakeApiServer(t, ({ url }) => url.includes('/log') ? status(400, 'container "load" in pod "p1" is waiting to start: ContainerCreating') : status(404, 'deployments.apps "web" not found'))
  const cluster = connectCheckCluster(await kubeconfig(t, url))
  await t.rejects(cluster.readDeployment('shop', 'web'), { message: 'reading deployment shop/web: the API server answered 404: deployments.apps "web" not found' })
  await t.rejects(cluster.readService('shop', 'web'), { message: /^reading Service shop\/web: the API server answered 404/ })
  await t.rejects(cluster.createJob('shop', {}), { message: /^creating the load Job in shop: the API server answered 404/ })
  await t.rejects(cluster.readJob('shop', 'j'), { message: /^reading Job shop\/j: / })
  await t.rejects(cluster.listPods('shop', 'a=b'), { message: /^listing Pods in shop \(a=b\): / })
  await t.rejects(cluster.patchDeployment('shop', 'web', {}), { message: /^patching deployment shop\/web: / })
  await t.rejects(cluster.readLog('shop', 'p1', 'load'), { message: 'reading the log of Pod shop/p1: the API server answered 400: container "load" in pod "p1" is waiting to start: ContainerCreating' })
})

t.test('an API server that is not there, and kubeconfigs that cannot be used', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 200 }))
  const file = await kubeconfig(t, url.replace(/:\d+$/, ':1'))
  await t.rejects(connectCheckCluster(file).readLog('shop', 'p1', 'load'), { message: /^reading the log of Pod shop\/p1: cannot reach the API server at https:\/\/127\.0\.0\.1:1: / })
  t.throws(() => connectCheckCluster(join(t.testdir({}), 'missing')), { message: /^cannot load kubeconfig .*missing: / })
  const empty = join(t.testdir({}), 'empty')
  await writeFile(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n')
  t.throws(() => connectCheckCluster(empty), { message: 'the kubeconfig names no current cluster' })
})

t.test('without --kubeconfig, the default one is loaded ($KUBECONFIG here)', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 200 }))
  const saved = process.env.KUBECONFIG
  process.env.KUBECONFIG = await kubeconfig(t, url)
  t.teardown(() => { if (saved === undefined) delete process.env.KUBECONFIG; else process.env.KUBECONFIG = saved })
  t.equal(connectCheckCluster(undefined).server, url)
  const broken = join(t.testdir({}), 'broken')
  await writeFile(broken, 'clusters: [')
  process.env.KUBECONFIG = broken
  t.throws(() => connectCheckCluster(undefined), { message: /^cannot load kubeconfig \(default\): / })
})

t.test('a watch: its path, the selector, each event, its end; stopping it is no error', async t => {
  const pod = (name: string): object => ({ type: 'MODIFIED', object: { metadata: { name } } })
  const { url, requests } = await fakeApiServer(t, () => ({ status: 200, body: `${JSON.stringify(pod('a'))}\n${JSON.stringify(pod('b'))}\n`, type: 'application/json' }))
  const cluster = connectCheckCluster(await kubeconfig(t, url))
  const events: string[] = []
  const ended = new Promise<Error | undefined>(resolve => {
    void cluster.watch('/api/v1/namespaces/shop/pods', 'app=web', (type, object) => { events.push(`${type} ${(object as { metadata: { name: string } }).metadata.name}`) }, resolve)
  })
  t.equal(await ended, undefined, 'the server closed it: ended without an error')
  t.same(events, ['MODIFIED a', 'MODIFIED b'])
  t.match(decodeURIComponent(requests[0]!.url), /^\/api\/v1\/namespaces\/shop\/pods\?.*labelSelector=app=web/)
  t.match(requests[0]!.url, /watch=true/)
  const failing = await fakeApiServer(t, () => status(403, 'pods is forbidden'))
  const refused = connectCheckCluster(await kubeconfig(t, failing.url))
  const why = await new Promise<Error | undefined>((resolve, reject) => { refused.watch('/api/v1/namespaces/shop/pods', 'app=web', () => undefined, resolve).catch(reject) })
  t.match(why?.message, /^watching \/api\/v1\/namespaces\/shop\/pods: /)
  const { url: slow } = await fakeApiServer(t, () => ({ status: 200, body: '', type: 'application/json' }))
  const stop = await connectCheckCluster(await kubeconfig(t, slow)).watch('/api/v1/namespaces/shop/pods', 'app=web', () => undefined, () => undefined)
  stop()
  t.pass('stopped')
})

t.test('the namespace\'s Events, and a failure to list them said as the others are', async t => {
  const event = { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: { kind: 'Pod', name: 'web-a' } }
  const list = { apiVersion: 'v1', kind: 'EventList', metadata: {}, items: [event] }
  const { url, requests } = await fakeApiServer(t, () => ({ status: 200, body: list }))
  t.match(await connectCheckCluster(await kubeconfig(t, url)).listEvents!('shop'), [event])
  t.same(requests.map(r => `${r.method} ${r.url}`), ['GET /api/v1/namespaces/shop/events'])
  const forbidden = await fakeApiServer(t, () => status(403, 'events is forbidden'))
  await t.rejects(connectCheckCluster(await kubeconfig(t, forbidden.url)).listEvents!('shop'),
    { message: 'listing the events in shop: forbidden (403): events is forbidden' })
})
