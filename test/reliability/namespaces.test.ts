// The namespace cache against a real kube-apiserver (control-plane/) through a TCP proxy the test
// controls: the API server unreachable when the webhook starts (not ready, then ready once it is
// back), the watch connection cut (reset) several times, and frozen (half-open: no reset, nothing
// arrives) — each time a changed annotation must be seen within a stated bound — and a namespace
// created just before its first Pod gets its values.
//
// Bounds: after a cut the watch restarts after its backoff (1 s doubling to 30 s, back to 1 s only
// after 60 s without error), so a change is seen within the longest backoff plus a relist:
// CUT_BOUND_MS. Here the cuts follow the start-up outage within a minute, so the backoff is already
// up (8 s, then 16 s, then 30 s): the worst case, on purpose. A half-open watch is only noticed by its silence: 5
// minutes in
// production (SILENCE_MS in src/namespaces/watch.ts), too long for CI, so the half-open case runs the
// same cache (createClusterNamespaces over the small client, same proxy) in this process with a 3 s
// silence; the bound is the silence plus the backoff plus a relist.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { Agent, request } from 'undici'
import { ensureBinaries, startCluster } from '../../control-plane/cluster.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { createClusterNamespaces } from '../../src/namespaces/informer.js'
import { connectKube } from '../../src/kube/connect.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { createTcpProxy, writeKubeconfigThrough } from '../helpers/tcp-proxy.js'
import { report, scaled } from '../helpers/reliability.js'

t.setTimeout(45 * 60_000) // a first build of the control plane
await ensureBinaries({ log: line => { t.comment(line) } })
t.setTimeout(600_000)

const CUT_BOUND_MS = 35_000
const HALF_OPEN_SILENCE_MS = 3000
const HALF_OPEN_BOUND_MS = HALF_OPEN_SILENCE_MS + 7000
const READY_BOUND_MS = 40_000
const CUTS = scaled(3, 10)
const FREEZES = scaled(2, 6)

const cluster = await startCluster({ log: line => { t.comment(line) } })
t.teardown(() => cluster.stop())
const kubectl = async (...args: string[]): Promise<void> => {
  const result = await cluster.kubectl(args)
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`)
}

const proxy = await createTcpProxy(t, Number(new URL(cluster.server).port))
const dir = t.testdir({})
const kubeconfigPath = join(dir, 'kubeconfig')
await writeKubeconfigThrough(proxy, cluster.kubeconfigPath, kubeconfigPath)
await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
await kubectl('annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=20s')

const insecure = new Agent({ connect: { rejectUnauthorized: false } })
t.teardown(() => insecure.close())
const REVIEW = JSON.parse(await readFile(new URL('../../examples/pod-review.json', import.meta.url), 'utf8')) as { request: { namespace: string } }

/** The sleep the webhook injects into a Pod of `namespace` right now (e.g. "20s"), or undefined. */
async function injectedSleep (port: number, namespace: string): Promise<string | undefined> {
  const body = JSON.stringify({ ...REVIEW, request: { ...REVIEW.request, namespace } })
  const response = await request(`https://127.0.0.1:${port}/mutate`, { method: 'POST', dispatcher: insecure, headers: { 'content-type': 'application/json' }, body })
  const answer = await response.body.json() as { response: { patch?: string } }
  const patch = answer.response.patch === undefined ? '' : Buffer.from(answer.response.patch, 'base64').toString('utf8')
  return /sleep=(\w+) grace=/.exec(patch)?.[1]
}

/** Milliseconds until `check` holds, or throws after `bound` ms. */
async function within (what: string, bound: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now()
  while (!await check().catch(() => false)) {
    if (performance.now() - started > bound) throw new Error(`${what}: not within ${bound} ms`)
    await sleep(100)
  }
  return performance.now() - started
}

const readyz = async (port: number): Promise<{ status: number, reasons: string[] }> => {
  const response = await request(`https://127.0.0.1:${port}/readyz`, { dispatcher: insecure })
  const body = await response.body.json() as { reasons: string[] }
  return { status: response.statusCode, reasons: body.reasons }
}

let recoveries = 0
const figures: Record<string, number> = {}

t.test('the API server down at start: not ready, then ready once it is back', async t => {
  const webhook = await startServeProcess({ args: ['--self-signed', '--kubeconfig', kubeconfigPath, '--log-level', 'warn'] })
  t.teardown(async () => { await webhook.stop(); if (t.counts.fail > 0) t.comment(webhook.log().split('\n').filter(l => !l.includes('"admission"')).slice(-40).join('\n')) })
  await sleep(3000)
  const down = await readyz(webhook.port)
  t.equal(down.status, 503, `not ready while the API server is unreachable (${down.reasons.join('; ')})`)
  t.match(down.reasons.join(';'), /namespace cache not synced/)
  await proxy.open()
  const ms = await within('ready after the API server came back', READY_BOUND_MS, async () => (await readyz(webhook.port)).status === 200)
  t.pass(`ready ${(ms / 1000).toFixed(1)} s after the API server came back (bound ${READY_BOUND_MS / 1000} s)`)
  figures.readyAfterApiServerBackMs = Math.round(ms)

  await t.test(`the watch cut ${CUTS} times: each changed annotation is seen within ${CUT_BOUND_MS / 1000} s`, async t => {
    const lags: number[] = []
    for (let i = 1; i <= CUTS; i++) {
      proxy.cut()
      const value = `${20 + i}s`
      await kubectl('annotate', '--overwrite', 'namespace', 'shop', `lameduck.dev/prestop-sleep=${value}`)
      lags.push(await within(`cut ${i}`, CUT_BOUND_MS, async () => await injectedSleep(webhook.port, 'shop') === value))
      recoveries++
    }
    t.pass(`seen after ${lags.map(ms => (ms / 1000).toFixed(1)).join(', ')} s`)
    figures.cutSeenWithinMsMax = Math.round(Math.max(...lags))
  })

  await t.test('a namespace created just before its first Pod gets its values', async t => {
    await kubectl('create', 'namespace', 'fresh')
    await kubectl('label', 'namespace', 'fresh', 'lameduck.dev/inject=enabled')
    await kubectl('annotate', 'namespace', 'fresh', 'lameduck.dev/prestop-sleep=42s')
    t.equal(await injectedSleep(webhook.port, 'fresh'), '42s', 'the first Pod gets the namespace\'s sleep')
  })
})

t.test(`the watch half-open ${FREEZES} times: noticed by its silence, and the change seen within ${HALF_OPEN_BOUND_MS / 1000} s`, async t => {
  const kube = await connectKube({ kubeconfig: kubeconfigPath })
  t.teardown(() => kube.close())
  const lookup = createClusterNamespaces(kube, pino({ level: 'silent' }), { silenceMs: HALF_OPEN_SILENCE_MS, backoff: { initialMs: 200 } })
  t.teardown(() => lookup.close())
  await within('the cache to sync', 30_000, async () => lookup.ready())
  const lags: number[] = []
  for (let i = 1; i <= FREEZES; i++) {
    proxy.freeze()
    const value = `${50 + i}s`
    await kubectl('annotate', '--overwrite', 'namespace', 'shop', `lameduck.dev/prestop-sleep=${value}`)
    lags.push(await within(`freeze ${i}`, HALF_OPEN_BOUND_MS, async () => (await lookup.get('shop'))?.annotations['lameduck.dev/prestop-sleep'] === value))
    recoveries++
  }
  t.pass(`seen after ${lags.map(ms => (ms / 1000).toFixed(1)).join(', ')} s (silence limit ${HALF_OPEN_SILENCE_MS / 1000} s)`)
  figures.halfOpenSeenWithinMsMax = Math.round(Math.max(...lags))
})

t.test('report', async t => {
  t.equal(recoveries, CUTS + FREEZES, 'every cut and freeze recovered')
  await report('namespaces', { watchRecoveries: recoveries, watchCuts: CUTS, watchFreezes: FREEZES, ...figures })
})
