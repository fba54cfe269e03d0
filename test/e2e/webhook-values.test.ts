// Where the values come from, through the real kube-apiserver: a namespace annotation changed after
// the fact (the informer follows it), a namespace the informer has not seen yet (read once
// directly: lameduck reaches the API server through a relay that can hold back its watch), a bad
// annotation value (the default, and a warning kubectl prints), and every sleep from 1 s to
// --max-sleep with the grace period lameduck computes for it: this API server accepts each one,
// where it rejects a native sleep longer than the grace period.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node'
import {
  OPTED_IN,
  clusterFor,
  createPod,
  injected,
  kubectl,
  metric,
  namespace,
  podOf,
  registerWebhook,
  sleepOf,
  startWebhook,
  untilMutated,
  type Pod
} from '../helpers/e2e.js'

const cluster = await clusterFor(t, 240_000)
const relay = await startRelay(Number(new URL(cluster.server).port))
const webhook = await startWebhook(t, cluster, { kubeconfigPath: await relayedKubeconfig(relay.port) })
await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
await namespace(cluster, 'shop', OPTED_IN, { 'lameduck.dev/prestop-sleep': '20s' })
await untilMutated(cluster, 'shop', /^sleep=20s grace=35s /)

/**
 * A TCP relay to the API server, for lameduck's client only. `hold()` stops passing on what the API
 * server sends over the connections open at that moment (the namespace watch); connections opened
 * later (a direct read) pass as usual. The function it returns lets the held data through.
 */
async function startRelay (target: number): Promise<{ port: number, hold: () => () => void }> {
  const open = new Set<{ client: net.Socket, upstream: net.Socket }>()
  const server = net.createServer(client => {
    const pair = { client, upstream: net.connect(target, '127.0.0.1') }
    open.add(pair)
    const close = (): void => { pair.client.destroy(); pair.upstream.destroy(); open.delete(pair) }
    for (const socket of [client, pair.upstream]) socket.on('error', close).on('close', close)
    client.pipe(pair.upstream)
    pair.upstream.pipe(client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const { client, upstream } of open) { client.destroy(); upstream.destroy() }
    server.close()
  })
  return {
    port: (server.address() as AddressInfo).port,
    hold () {
      const held = [...open]
      for (const { client, upstream } of held) { upstream.unpipe(client); upstream.pause() }
      return () => { for (const { client, upstream } of held) upstream.pipe(client) }
    }
  }
}

/** The cluster's kubeconfig, pointed at the relay (the API server's certificate is for 127.0.0.1, as the relay is). */
async function relayedKubeconfig (port: number): Promise<string> {
  const config = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }
  config.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`
  const path = join(cluster.dir, 'kubeconfig-relayed')
  await writeFile(path, stringify(config), { mode: 0o600 })
  return path
}

t.test('a changed namespace annotation reaches the next Pod once the informer has it', async t => {
  const changed = Date.now()
  await kubectl(cluster, ['annotate', '--overwrite', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=42s'])
  const pod = await untilMutated(cluster, 'shop', /^sleep=42s/, 10_000)
  t.comment(`the new value was in use after ${Date.now() - changed} ms`)
  t.equal(sleepOf(pod.spec.containers[0]), 42, 'the new sleep')
  t.equal(pod.spec.terminationGracePeriodSeconds, 57, 'grace = 42 + the default 15 s budget')
})

t.test('a namespace the watch has not delivered yet is read directly, and its values are used', async t => {
  const misses = (): Promise<number> => metric(webhook, 'lameduck_namespace_cache_events_total', 'event="cache-miss"')
  const before = await misses()
  const release = relay.hold()
  t.teardown(release)
  await namespace(cluster, 'fresh', OPTED_IN, { 'lameduck.dev/prestop-sleep': '33s' })
  const { pod } = await createPod(cluster, 'fresh', podOf())
  t.equal(injected(pod), 'sleep=33s grace=48s handler=sleep containers=web', 'the new namespace\'s own values')
  t.equal(await misses() - before, 1, 'one direct read (cache-miss)')
  await createPod(cluster, 'fresh', podOf())
  t.equal(await misses() - before, 1, 'the next Pod is answered from the cache')
})

t.test('a bad annotation value: the default or the next good value is used, and kubectl says so', async t => {
  await namespace(cluster, 'typo', OPTED_IN, { 'lameduck.dev/prestop-sleep': 'banana' })
  await untilMutated(cluster, 'typo', /^sleep=15s/)
  const { pod, warnings } = await createPod(cluster, 'typo', podOf())
  t.equal(sleepOf(pod.spec.containers[0]), 15, 'the server default')
  t.equal(pod.spec.terminationGracePeriodSeconds, 30, 'grace 15 + 15 s: not raised')
  t.same(warnings, ['lameduck: namespace annotation lameduck.dev/prestop-sleep: "banana" is not a duration (use seconds like 15 or 15s, or 1m30s); using the default 15s'], 'kubectl prints what was wrong and what was used')

  const own = await createPod(cluster, 'shop', podOf({ annotations: { 'lameduck.dev/prestop-sleep': '0' } }))
  t.equal(sleepOf(own.pod.spec.containers[0]), 42, 'the namespace value')
  t.equal(own.warnings[0], 'lameduck: Pod annotation lameduck.dev/prestop-sleep: "0" is too short (at least 1s); using the namespace value 42s', 'a bad Pod value falls back to the namespace\'s')
})

t.test('every sleep from 1 s to --max-sleep is accepted with the grace period lameduck computes', async t => {
  const { maxSleep, defaultBudget } = webhook.limits
  t.equal(maxSleep, 300, 'the default --max-sleep')
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(cluster.kubeconfigPath)
  const api = kubeConfig.makeApiClient(CoreV1Api)
  const dryRun = (pod: Pod): Promise<V1Pod> => api.createNamespacedPod({ namespace: 'shop', body: pod as V1Pod, dryRun: 'All' })

  // The API server enforces the rule the sweep relies on: a native sleep above the grace period is refused.
  const tooLong = podOf({ labels: { 'lameduck.dev/inject': 'disabled' }, containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10', lifecycle: { preStop: { sleep: { seconds: 31 } } } }] })
  await t.rejects(dryRun(tooLong), /must be non-negative and less than terminationGracePeriodSeconds \(30\)/)

  const started = Date.now()
  const sleeps = Array.from({ length: maxSleep }, (_, i) => i + 1)
  const bad: string[] = []
  const worker = async (): Promise<void> => {
    for (let n = sleeps.shift(); n !== undefined; n = sleeps.shift()) {
      const pod = await dryRun(podOf({ annotations: { 'lameduck.dev/prestop-sleep': `${n}s` } }))
      const sleep = pod.spec?.containers[0]?.lifecycle?.preStop?.sleep?.seconds
      const grace = pod.spec?.terminationGracePeriodSeconds
      if (sleep !== n || grace !== Math.max(30, n + defaultBudget) || grace <= n) bad.push(`sleep ${n}: got sleep ${String(sleep)}, grace ${String(grace)}`)
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  t.comment(`${maxSleep} dry-run creates in ${Date.now() - started} ms`)
  t.same(bad, [], `sleeps 1..${maxSleep}: each stored with that sleep and a grace period above it`)

  const over = await createPod(cluster, 'shop', podOf({ annotations: { 'lameduck.dev/prestop-sleep': `${maxSleep + 1}s` } }), { dryRun: true })
  t.equal(sleepOf(over.pod.spec.containers[0]), maxSleep, 'one more is clamped')
  t.ok(over.warnings.includes('lameduck: preStop sleep 5m1s is over the server\'s limit; clamped to 5m (--max-sleep)'), 'with a warning')
})
