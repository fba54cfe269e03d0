// When the webhook goes away, through the real kube-apiserver. On SIGTERM lameduck stops being ready
// but keeps answering for its drain delay, then exits 0. Stopped, it leaves the outcome to the
// configuration's failurePolicy: Ignore creates Pods unmutated, Fail refuses them with the API
// server's message naming the webhook. Started again on the same port, it is called again.
import t from 'tap'
import https from 'node:https'
import {
  OPTED_IN, clusterFor, createPod, injected, namespace, podOf, registerWebhook, startWebhook, until, untilMutated
} from '../helpers/e2e.js'

const cluster = await clusterFor(t, 240_000)
// Long enough for a kubectl run on a busy machine to land inside it.
const DRAIN_MS = 6000
const webhook = await startWebhook(t, cluster, { drainDelay: `${DRAIN_MS / 1000}s` })
await registerWebhook(cluster, webhook, { failurePolicy: 'Ignore' })
await namespace(cluster, 'shop', OPTED_IN)
await untilMutated(cluster, 'shop', /^sleep=15s grace=30s /)

function readyz (): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(`https://127.0.0.1:${webhook.port}/readyz`, { ca: webhook.cert, agent: false }, res => { res.resume(); resolve(res.statusCode!) }).on('error', reject)
  })
}

t.test('SIGTERM: not ready at once, Pods still mutated during the drain delay, then exit 0', async t => {
  process.kill(webhook.pid, 'SIGTERM')
  const stopped = Date.now()
  await until('/readyz to fail', async () => await readyz() === 503 ? true : undefined, 3000)
  const { pod } = await createPod(cluster, 'shop', podOf())
  t.ok(Date.now() - stopped < DRAIN_MS, 'created within the drain delay')
  t.match(injected(pod), /^sleep=15s grace=30s /, 'mutated while draining')
  t.equal(await webhook.exited, 0, 'exit code 0')
})

t.test('stopped, with failurePolicy Ignore: Pods are created, unmutated', async t => {
  const { pod } = await createPod(cluster, 'shop', podOf())
  t.equal(injected(pod), undefined, 'no marker')
  t.equal(pod.spec.containers[0]!.lifecycle, undefined, 'no hook')
  t.equal(pod.spec.terminationGracePeriodSeconds, 30, 'the API server\'s default grace period')
})

t.test('stopped, with failurePolicy Fail: Pods are refused, and kubectl says which webhook failed and why', async t => {
  await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
  const refused = await until('the Fail policy to be in use', async () => {
    const result = await cluster.kubectl(['create', '-n', 'shop', '-f', '-'], { input: JSON.stringify(podOf({ name: 'refused' })) })
    return result.code === 0 ? (await cluster.kubectl(['delete', 'pod', 'refused', '-n', 'shop']), undefined) : result
  })
  t.comment(refused.stderr.trim())
  t.match(refused.stderr, `Internal error occurred: failed calling webhook "pods.lameduck.dev": failed to call webhook: Post "https://127.0.0.1:${webhook.port}/mutate?timeout=10s"`, 'which webhook, at which URL')
  t.match(refused.stderr, /connect: connection refused/, 'and why')
  t.match((await cluster.kubectl(['get', 'pod', 'refused', '-n', 'shop'])).stderr, /NotFound/, 'nothing stored')
})

t.test('started again on the same port, it is called again', async t => {
  await startWebhook(t, cluster, { port: webhook.port, pair: { cert: webhook.cert, key: webhook.key } })
  const { pod } = await createPod(cluster, 'shop', podOf())
  t.match(injected(pod), /^sleep=15s grace=30s /, 'mutated again')
})
