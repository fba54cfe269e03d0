// `npm run demo -- --scenario scale-in,evict,nginx`, end to end on a real node, one cluster for the
// three (2 replicas, 2 s propagation, 150 requests/s on each path): with lameduck no request fails in
// any of them, over at least 1,000 requests on each path, and the kubelet reports no failed preStop
// hook (nor any Warning event but a stopping Pod's failed probe); without it, requests fail where the
// physics says they must. A node test: one at a time. (The rollout has its own file, demo.test.ts.)
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureBinaries } from '../../control-plane/cluster.js'
import { ensureLameduckImage } from '../../control-plane/images/lameduck-image.js'
import { ensureNginxImage } from '../../control-plane/images/nginx-image.js'
import { repoRoot } from '../../control-plane/paths.js'
import type { ScenarioResult } from '../../demo/run.js'

t.setTimeout(60 * 60_000) // a first build of the binaries and the images; later a cluster starts in seconds
await ensureBinaries({ log: line => { t.comment(line) }, node: true })
await ensureLameduckImage(line => { t.comment(line) })
await ensureNginxImage(line => { t.comment(line) })
t.setTimeout(12 * 60_000)

const out = t.testdir({})
const json = join(out, 'result.json')
let output = ''
let results = {} as Record<'scale-in' | 'evict' | 'nginx', ScenarioResult>

// One run for the three scenarios; the tests below read what it printed and wrote.
t.test('the demo runs scale-in, evict and nginx on one cluster', async t => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'demo/main.ts'), '--scenario', 'scale-in,evict,nginx', '--rate', '150', '--replicas', '2', '--propagation-delay', '2s', '--out', out, '--json', json],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT') })
  const code = await new Promise<number | string>(resolve => child.on('exit', (c, signal) => { resolve(c ?? signal ?? 'unknown') }))
  t.comment(output)
  t.equal(code, 0, 'the demo completes')
  results = JSON.parse(await readFile(json, 'utf8')) as typeof results
  t.same(Object.keys(results), ['scale-in', 'evict', 'nginx'], 'one object per scenario, in the order run')
})

t.test('with lameduck, no request fails in any scenario, over at least 1,000 on each path', async t => {
  for (const [scenario, result] of Object.entries(results)) {
    for (const path of ['clusterIP', 'loadBalancer'] as const) {
      // A load that fell behind has no verdict (docs/check.md): then this run proves nothing either way.
      const { noVerdict, loadLagMs } = result.with[path]
      t.equal(noVerdict, undefined, `${scenario}, ${path}: the load kept its schedule (${loadLagMs} ms behind at most)`)
      t.ok(result.with[path].requests >= 1000, `${scenario}, ${path}: ${result.with[path].requests} requests with lameduck`)
      t.equal(result.with[path].failed, 0, `${scenario}, ${path}: none failed with lameduck`)
    }
    t.equal(result.with.requests, result.with.clusterIP.requests + result.with.loadBalancer.requests, `${scenario}: totals over both paths`)
  }
})

/**
 * The Warning events a stopping Pod may get: its readiness probe failing once its server stops
 * listening (the kubelet probes a terminating Pod until its container exits), with or without
 * lameduck. Any other reason is unexpected.
 */
const EXPECTED_WARNINGS = new Set(['FailedPreStopHook', 'Unhealthy'])

t.test('with lameduck, the kubelet reports no failed hook, and no unexpected Warning event, in any scenario', async t => {
  // A shutdown that serves every request but makes the kubelet warn about every Pod still looks
  // broken to whoever alerts on events.
  for (const [scenario, result] of Object.entries(results)) {
    const events = JSON.stringify(result.with.warningEvents)
    t.equal(result.with.warningEvents.FailedPreStopHook, 0, `${scenario}: no FailedPreStopHook (${events})`)
    const unexpected = Object.keys(result.with.warningEvents).filter(reason => !EXPECTED_WARNINGS.has(reason))
    t.same(unexpected, [], `${scenario}: no other reason (${events})`)
  }
  t.match(output, /the kubelet's Warning events about the Pods stopped: FailedPreStopHook 0/)
})

t.test('scale-in: the ReplicaSet controller deletes the surplus Pod; without lameduck nginx still sends it requests', async t => {
  const result = results['scale-in']
  t.equal(result.with.loadBalancer.events.filter(e => e.kind === 'pod-deleted').length, 1, 'from 2 replicas to 1: one Pod deleted')
  // The app stops accepting on SIGTERM at once, and nginx routes to it for the 2 s propagation delay
  // after that: those requests must fail. Through the ClusterIP, the Pod turns not ready as it is
  // deleted and kube-proxy usually drops it within a sync, before the app has closed its listener:
  // 0 failures there without lameduck is a legitimate outcome, so it is only reported.
  t.ok(result.without.loadBalancer.failed > 0, `${result.without.loadBalancer.failed} failed through nginx without lameduck`)
  t.comment(`scale-in through the ClusterIP without lameduck: ${result.without.clusterIP.failed} failed`)
  t.match(output, /kubectl scale deployment\/web --replicas=1 -n shop/)
})

t.test('evict: each Pod through the Eviction API, the PodDisruptionBudget honoured; failures without lameduck', async t => {
  const result = results.evict
  t.equal(result.with.loadBalancer.events.filter(e => e.kind === 'pod-deleted').length, 2, 'both Pods evicted')
  t.match(output, /evicted web-\S+ \(POST pods\/web-\S+\/eviction, policy\/v1\)/)
  t.match(output, /with a PodDisruptionBudget maxUnavailable 1/)
  // As for the scale-in: nginx's delay makes failures certain through it, the ClusterIP's are reported.
  t.ok(result.without.loadBalancer.failed > 0, `${result.without.loadBalancer.failed} failed through nginx without lameduck`)
  t.comment(`evict through the ClusterIP without lameduck: ${result.without.clusterIP.failed} failed`)
})

t.test('nginx: slow requests in flight are cut by SIGTERM after a plain sleep hook, and finish with the preset', async t => {
  const result = results.nginx
  t.match(output, /plain\/web-\S+: preStop sleep 4s, terminationGracePeriodSeconds 30/, 'without lameduck: the hand-written sleep')
  t.match(output, /shop\/web-\S+: preStop exec \/bin\/sh -c sleep 4; .*kill -QUIT \$w/,
    'with lameduck: the nginx preset (pause, SIGQUIT to the workers, wait for them)')
  const slow = (id: 'without' | 'with'): { requests: number, failed: number } => {
    const { clusterIP, loadBalancer } = result[id]
    return {
      requests: (clusterIP.slow?.requests ?? 0) + (loadBalancer.slow?.requests ?? 0),
      failed: (clusterIP.slow?.failed ?? 0) + (loadBalancer.slow?.failed ?? 0)
    }
  }
  // A slow request takes 7 s (the 4 s pause + 3 s), sent twice a second on each path from the start:
  // several are in flight on each Pod when its pause ends, and nginx's SIGTERM (a fast shutdown)
  // drops them; the preset's SIGQUIT to the workers lets them finish, and its hook ends before the
  // container does (FailedPreStopHook 0, above).
  t.ok(slow('without').failed > 0, `${slow('without').failed} of ${slow('without').requests} slow requests cut without lameduck`)
  t.ok(slow('with').requests > 0, `${slow('with').requests} slow requests with lameduck`)
  t.equal(slow('with').failed, 0, 'none cut with the preset')
  t.match(output, /slow requests cut\s+\d+ of \d+/, 'the table says how many')
})

t.test('the picture has every scenario\'s panels, and the summary table a row each', async t => {
  const svg = await readFile(join(out, 'timeline.svg'), 'utf8')
  for (const scenario of Object.keys(results)) {
    for (const id of ['without-clusterIP', 'without-loadBalancer', 'with-clusterIP', 'with-loadBalancer']) t.match(svg, `<g class="run" id="run-${scenario}-${id}">`)
  }
  t.match(output, /failed of requests, each scenario side by side:[\s\S]*scale-in to 1[\s\S]*evictions \(policy\/v1\)[\s\S]*nginx rollout/)
})
