// The cluster side of `lameduck check`, over the small client, against a loopback server that answers as
// the API server does (paths, verbs, content types, Status bodies, watch streams held open);
// test/e2e/check.test.ts runs it against a real one.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { connectCheckCluster, type CheckClusterApi } from '../../../src/check/cluster.js'
import {
  failure as status, fakeApiServer, writeKubeconfig, type ApiAnswer, type ApiRequest, type FakeApiServer
} from '../../helpers/api-server.js'

/** A fake API server answering with `handler`, and the check's cluster for it (closed at teardown). */
async function connected (t: Test, handler: (r: ApiRequest) => ApiAnswer, plain = false):
Promise<FakeApiServer & { cluster: CheckClusterApi }> {
  const server = await fakeApiServer(t, handler, plain)
  const cluster = await connectCheckCluster({ kubeconfig: await writeKubeconfig(t, server.url) })
  t.teardown(() => cluster.close())
  return { ...server, cluster }
}

/** Resolves once `condition` holds, or rejects after `ms`. */
async function until (condition: () => boolean, ms: number, what: string): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(10)) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`)
  }
}

t.test('each call goes to its API path with its verb and credentials, and the restart is a merge patch', async t => {
  const { url, requests, cluster } = await connected(t, ({ method, url }) => {
    if (url.includes('/log')) return { status: 200, body: 'line 1\n{"a":1}\n', type: 'text/plain' }
    if (method === 'POST') return { status: 201, body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'lameduck-check-x7k2p' } } }
    if (url.includes('/pods')) return { status: 200, body: { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [{ metadata: { name: 'p1' } }] } }
    return { status: 200, body: { metadata: { name: 'web', generation: 3 } } }
  })
  t.equal(cluster.server, url)
  t.equal((await cluster.readDeployment('shop', 'web')).metadata?.generation, 3)
  t.equal((await cluster.readService('shop', 'web')).metadata?.name, 'web')
  t.equal(await cluster.createJob('shop', { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'lameduck-check-' } }), 'lameduck-check-x7k2p')
  t.equal((await cluster.readJob('shop', 'lameduck-check-x7k2p')).metadata?.name, 'web')
  t.same((await cluster.listPods('shop', 'job-name=lameduck-check-x7k2p')).map(p => p.metadata?.name), ['p1'])
  const patch = { spec: { template: { metadata: { annotations: { a: 'b' } } } } }
  t.equal((await cluster.patchDeployment('shop', 'web', patch)).metadata?.generation, 3)
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
  t.same(requests[2]!.body, { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'lameduck-check-' } })
  t.equal(requests[5]!.contentType, 'application/merge-patch+json')
  t.same(requests[5]!.body, patch)
  t.same(requests.map(r => r.authorization), Array(7).fill('Bearer secret-token'), 'every call, the log too')
})

t.test('a log: empty (204 No Content, as for a Pod that never ran), and over a plain-HTTP API server', async t => {
  const empty = await connected(t, () => ({ status: 204 }))
  t.equal(await empty.cluster.readLog('shop', 'p1', 'load'), '')
  const plain = await connected(t, () => ({ status: 200, body: 'ok\n', type: 'text/plain' }), true)
  t.equal(await plain.cluster.readLog('shop', 'p1', 'load'), 'ok\n')
})

t.test('failures say what was being done and what the API server said', async t => {
  const waiting = 'container "load" in pod "p1" is waiting to start: ContainerCreating'
  const notFound = 'deployments.apps "web" not found'
  const { cluster } = await connected(t, r => r.url.includes('/log') ? status(400, waiting) : status(404, notFound))
  await t.rejects(cluster.readDeployment('shop', 'web'), { message: 'reading deployment shop/web: the API server answered 404: deployments.apps "web" not found' })
  await t.rejects(cluster.readService('shop', 'web'), { message: /^reading Service shop\/web: the API server answered 404/ })
  await t.rejects(cluster.createJob('shop', {}), { message: /^creating the load Job in shop: the API server answered 404/ })
  await t.rejects(cluster.readJob('shop', 'j'), { message: /^reading Job shop\/j: / })
  await t.rejects(cluster.listPods('shop', 'a=b'), { message: /^listing Pods in shop \(a=b\): / })
  await t.rejects(cluster.patchDeployment('shop', 'web', {}), { message: /^patching deployment shop\/web: / })
  await t.rejects(cluster.readLog('shop', 'p1', 'load'),
    { message: `reading the log of Pod shop/p1: the API server answered 400: ${waiting}` })
  const nameless = await connected(t, () => ({ status: 201, body: {} }))
  t.equal(await nameless.cluster.createJob('shop', {}), '', 'a Job answered without a name has none')
})

t.test('an API server that is not there, and kubeconfigs that cannot be used: the small client\'s wording', async t => {
  const { url } = await fakeApiServer(t, () => ({ status: 200 }))
  const down = await connectCheckCluster({ kubeconfig: await writeKubeconfig(t, url.replace(/:\d+$/, ':1')) })
  await t.rejects(down.readLog('shop', 'p1', 'load'),
    { message: /^reading the log of Pod shop\/p1: cannot reach the API server at https:\/\/127\.0\.0\.1:1: / })
  const missing = join(t.testdir({}), 'missing')
  await t.rejects(connectCheckCluster({ kubeconfig: missing }),
    { message: new RegExp(`^cannot load kubeconfig ${missing}: ENOENT`) })
  const file = await writeKubeconfig(t, url)
  await t.rejects(connectCheckCluster({ kubeconfig: file, context: 'nope' }),
    { message: `kubeconfig ${file}: it has no context "nope"` })
})

t.test('an eviction is a POST of a policy/v1 Eviction; 429 and 404 are answers, anything else a failure', async t => {
  const { requests, cluster } = await connected(t, ({ url }) => {
    if (url.includes('/blocked/')) return status(429, 'Cannot evict pod as it would violate its disruption budget.')
    if (url.includes('/gone/')) return status(404, 'pods "gone" not found')
    if (url.includes('/broken/')) return status(403, 'pods "broken" is forbidden: cannot create "pods/eviction"')
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } }
  })
  t.equal(await cluster.evictPod('shop', 'web-1'), 'evicted')
  t.equal(await cluster.evictPod('shop', 'blocked'), 'blocked')
  t.equal(await cluster.evictPod('shop', 'gone'), 'gone')
  await t.rejects(cluster.evictPod('shop', 'broken'),
    { message: /^evicting Pod shop\/broken: forbidden \(403\): pods "broken"/ })
  t.equal(`${requests[0]!.method} ${requests[0]!.url}`, 'POST /api/v1/namespaces/shop/pods/web-1/eviction')
  t.same(requests[0]!.body, {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { namespace: 'shop', name: 'web-1' }
  })
})

/** A watch of shop's Pods that records its events and its end. */
interface Watched { events: string[], ends: Array<Error | undefined>, stop: () => void }

async function watchPods (cluster: CheckClusterApi): Promise<Watched> {
  const events: string[] = []
  const ends: Array<Error | undefined> = []
  const stop = await cluster.watch('/api/v1/namespaces/shop/pods', 'app=web', (type, object) => {
    events.push(`${type} ${(object as { metadata: { name: string } }).metadata.name}`)
  }, err => { ends.push(err) })
  return { events, ends, stop }
}

const event = (type: string, name: string): string => `${JSON.stringify({ type, object: { metadata: { name } } })}\n`

t.test('a watch: its path and selector, each event, and its end when the API server closes it', async t => {
  const body = event('ADDED', 'a') + event('MODIFIED', 'b')
  const { requests, cluster } = await connected(t, () => ({ status: 200, body }))
  const watch = await watchPods(cluster)
  await until(() => watch.ends.length > 0, 5000, 'the end of the watch')
  t.same(watch.events, ['ADDED a', 'MODIFIED b'])
  t.same(watch.ends, [undefined], 'the server closed it: ended without an error')
  t.equal(decodeURIComponent(requests[0]!.url), '/api/v1/namespaces/shop/pods?watch=true&labelSelector=app=web')
})

t.test('a watch the API server refuses, ends with a Status, or cuts: one line each', async t => {
  const refused = await connected(t, () => status(403, 'pods is forbidden'))
  await t.rejects(watchPods(refused.cluster),
    { message: 'watching /api/v1/namespaces/shop/pods (app=web): forbidden (403): pods is forbidden' })
  const tooOld = { kind: 'Status', code: 410, message: 'too old resource version: 1 (2)' }
  const ended = `${event('ADDED', 'a')}${JSON.stringify({ type: 'ERROR', object: tooOld })}\n`
  const gone = await connected(t, () => ({ status: 200, body: ended, hold: true }))
  const old = await watchPods(gone.cluster)
  await until(() => old.ends.length > 0, 5000, 'the end of the watch')
  t.same(old.events, ['ADDED a'], 'the ERROR event is not an object of the list')
  t.same(old.ends.map(e => e?.message), ['watching /api/v1/namespaces/shop/pods: too old resource version: 1 (2)'])
  await until(() => gone.closedByClient.length === 1, 5000, 'the watch closed by the client')
  const bareError = `${JSON.stringify({ type: 'ERROR', object: {} })}\n`
  const statusless = await connected(t, () => ({ status: 200, body: bareError }))
  const bare = await watchPods(statusless.cluster)
  await until(() => bare.ends.length > 0, 5000, 'the end of the watch')
  t.same(bare.ends.map(e => e?.message), ['watching /api/v1/namespaces/shop/pods: the API server ended it'])
  const garbled = await connected(t, () => ({ status: 200, body: 'not json\n' }))
  const cut = await watchPods(garbled.cluster)
  await until(() => cut.ends.length > 0, 5000, 'the end of the watch')
  t.match(cut.ends[0]?.message,
    /^watching \/api\/v1\/namespaces\/shop\/pods: cannot reach the API server at https:\/\/127\.0\.0\.1:\d+: /)
})

t.test('stopping a watch closes its connection to the API server, and is not reported as its end', async t => {
  const { closedByClient, cluster } = await connected(t, () => ({ status: 200, body: event('ADDED', 'a'), hold: true }))
  const watch = await watchPods(cluster)
  await until(() => watch.events.length === 1, 5000, 'the first event')
  t.same(closedByClient, [], 'open until stopped')
  watch.stop()
  await until(() => closedByClient.length === 1, 5000, 'the API server to see the watch closed')
  t.equal(closedByClient[0]!.url, '/api/v1/namespaces/shop/pods?watch=true&labelSelector=app%3Dweb')
  await sleep(50)
  t.same(watch.ends, [], 'no end reported: the run asked for it')
})

t.test('the namespace\'s Events, and a failure to list them said as the others are', async t => {
  const event = { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: { kind: 'Pod', name: 'web-a' } }
  const list = { apiVersion: 'v1', kind: 'EventList', metadata: {}, items: [event] }
  const { requests, cluster } = await connected(t, () => ({ status: 200, body: list }))
  t.match(await cluster.listEvents!('shop'), [event])
  t.same(requests.map(r => `${r.method} ${r.url}`), ['GET /api/v1/namespaces/shop/events'])
  const forbidden = await connected(t, () => status(403, 'events is forbidden'))
  await t.rejects(forbidden.cluster.listEvents!('shop'), { message: /^listing the events in shop: .*events is forbidden/ })
})
