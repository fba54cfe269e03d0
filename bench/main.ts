/**
 * `npm run bench`: the webhook's speed and memory, as ratios against a baseline measured in the same
 * run wherever possible (the machine is shared and noisy). Results go to stdout and, with `--json
 * FILE`, to a JSON file; BENCHMARKS.md explains them. Not part of `npm test`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual, parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { runHandshakes, runLoad, startBenchServer } from './load.js'
import { idleRssMb, soak, startCompiledServe, type SoakResult, type Target } from './soak.js'
import { deploymentNodeOptions } from '../test/helpers/serve-process.js'
import { benchApiServer } from './apiserver.js'
import { hotFunctions } from './profile.js'
import { buildGoPeer, pin, startGoPeer } from './peer.js'
import { SHOP, patchedObject } from './fixture.js'
import { median, round2, round3, sideBySideKeys, tail, type SideBySide, type Tail } from './stats.js'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'

const USAGE = `Usage: npm run bench -- [flags]
  --json FILE            also write the results as JSON
  --rounds N             rounds of each comparison, medians quoted (default 5)
  --seconds S            length of one throughput round (default 5)
  --fixed-seconds S      length of one fixed 1,000 requests/s run, --rounds runs per webhook (default 10)
  --soak-seconds S       length of the memory soak at 1,000 requests/s (default 60; 600 for 10 minutes)
  --skip LIST            comma-separated: throughput,fixed,handshake,soak,apiserver
  --cpu-prof DIR         instead: profile the server under /mutate load into DIR and list the hot functions
Load generator on CPU 0, webhooks (lameduck and the Go peer, bench/go-peer/) on CPU 1 (taskset).`

const FIXTURE = new URL('./fixtures/deployment-pod-review.json', import.meta.url)

function positive (flags: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = flags[name]
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name}: ${JSON.stringify(text)} is not a positive whole number`)
  return value
}

class UsageError extends Error {}

function readFlags (argv: string[]) {
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({ args: argv, strict: true, options: { json: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' }, 'fixed-seconds': { type: 'string' }, 'soak-seconds': { type: 'string' }, skip: { type: 'string' }, 'cpu-prof': { type: 'string' } } }).values as Record<string, string | undefined>
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0])
  }
  const skip = new Set((values.skip ?? '').split(',').filter(s => s !== ''))
  const unknown = [...skip].filter(s => !['throughput', 'fixed', 'handshake', 'soak', 'apiserver'].includes(s))
  if (unknown.length > 0) throw new UsageError(`--skip: unknown part ${JSON.stringify(unknown[0])}`)
  return { json: values.json, cpuProf: values['cpu-prof'], skip, rounds: positive(values, 'rounds', 5), seconds: positive(values, 'seconds', 5), fixedSeconds: positive(values, 'fixed-seconds', 10), soakSeconds: positive(values, 'soak-seconds', 60) }
}

const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/** The CPUs of the load generator (this process) and of the webhooks, when there are two to split. */
const CPUS = availableParallelism() >= 2 ? { generator: 0, webhooks: 1 } : undefined

/** Where each webhook answers. */
interface Urls { lameduck: string, go: string }

/**
 * /mutate against two baselines on the same server with the same body, each round in a rotating
 * order: /echo (the body sent back: a bare echo route) and /minimal (the smallest valid answer).
 * Returns the median ratios and rates.
 */
async function throughput (urls: Urls, body: string, rounds: number, seconds: number) {
  const paths = ['mutate', 'echo', 'minimal', 'go'] as const
  const target = (path: (typeof paths)[number]): string =>
    path === 'go' ? `${urls.go}/mutate` : `${urls.lameduck}/${path}`
  const rates: Record<string, number[]> = { mutate: [], echo: [], minimal: [], go: [] }
  const vsEcho: number[] = []
  const vsMinimal: number[] = []
  // warm-up: JIT, TLS sessions
  for (const path of paths) await runLoad({ url: target(path), body, seconds: 2, connections: 8 })
  for (let i = 0; i < rounds; i++) {
    const rps: Record<string, number> = {}
    for (let j = 0; j < paths.length; j++) {
      const path = paths[(i + j) % paths.length]!
      const result = await runLoad({ url: target(path), body, seconds, connections: 8 })
      if (result.failures > 0) throw new Error(`/${path}: ${result.failures} failed requests`)
      rps[path] = result.rps
      rates[path]!.push(result.rps)
    }
    vsEcho.push(rps.mutate! / rps.echo!)
    vsMinimal.push(rps.mutate! / rps.minimal!)
    log(
      `throughput round ${i + 1}: /mutate ${rps.mutate!.toFixed(0)}/s, /echo ${rps.echo!.toFixed(0)}/s, /minimal ${rps.minimal!.toFixed(0)}/s, Go peer ${rps.go!.toFixed(0)}/s; vs echo ${vsEcho.at(-1)!.toFixed(3)}, vs minimal ${vsMinimal.at(-1)!.toFixed(3)}, vs Go ${(rps.mutate! / rps.go!).toFixed(3)}`
    )
  }
  return {
    mutateVsEcho: round3(median(vsEcho)),
    mutateVsMinimal: round3(median(vsMinimal)),
    mutateRps: Math.round(median(rates.mutate!)),
    echoRps: Math.round(median(rates.echo!)),
    minimalRps: Math.round(median(rates.minimal!)),
    goRpsRounds: rates.go!.map(Math.round),
    ratiosVsEcho: vsEcho.map(round3),
    ratiosVsMinimal: vsMinimal.map(round3)
  }
}

/** `runs` fixed-rate runs of each webhook, alternating (which goes first alternates too). */
async function fixedRate (urls: Urls, body: string, seconds: number, runs: number) {
  const tails: { lameduck: Tail[], go: Tail[] } = { lameduck: [], go: [] }
  let failed = 0
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['lameduck', 'go'] as const : ['go', 'lameduck'] as const
    for (const peer of order) {
      const result = await runLoad({ url: `${urls[peer]}/mutate`, body, seconds, connections: 16, rate: 1000 })
      const t = tail(result.latencies)
      failed += result.failures
      tails[peer].push(t)
      log(`fixed 1000/s for ${seconds} s, run ${i + 1}, ${peer}: p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms, p99.9 ${t.p999.toFixed(2)} ms, ${result.failures} failed`)
    }
  }
  const show = (ts: Tail[]): number[] => ts.map(t => round2(t.p99))
  return {
    tails,
    keys: {
      p99MsAt1000Runs: show(tails.lameduck),
      goP99MsAt1000Runs: show(tails.go),
      failedAt1000: failed,
      fixedSeconds: seconds
    }
  }
}

async function handshakes (url: string, body: string, rounds: number, seconds: number) {
  const rates: number[] = []
  for (let i = 0; i < rounds; i++) {
    const result = await runHandshakes(`${url}/mutate`, body, seconds, 8)
    rates.push(result.rps)
    log(`new TLS connection per request, round ${i + 1}: ${result.rps.toFixed(0)}/s`)
  }
  return { newConnectionRps: Math.round(median(rates)) }
}

async function profile (dir: string, body: string, seconds: number): Promise<void> {
  const server = await startBenchServer({ cpuProfDir: dir, nodeOptions: await deploymentNodeOptions() })
  try {
    await runLoad({ url: `${server.url}/mutate`, body, seconds, connections: 8 })
  } finally {
    await server.stop()
  }
  for (const fn of await hotFunctions(dir)) log(`${String(fn.selfPct).padStart(5)}%  ${fn.name}  ${fn.where}`)
}

/** Both webhooks give the fixture's Pod the same result, or the comparison is not fair: checked first. */
async function checkSameWork (urls: Urls, body: string): Promise<void> {
  const review = JSON.parse(body) as { request: { uid: string, object: unknown } }
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  try {
    const pods: Record<string, unknown> = {}
    for (const peer of ['lameduck', 'go'] as const) {
      const response = await request(`${urls[peer]}/mutate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher })
      const pod = patchedObject(review, await response.body.json() as object)
      if (pod instanceof Error) throw new Error(`${peer}: ${pod.message}`)
      pods[peer] = pod
    }
    if (!isDeepStrictEqual(pods.lameduck, pods.go)) throw new Error(`the Go peer's patch gives another Pod than lameduck's:\n${JSON.stringify(pods.go)}\n${JSON.stringify(pods.lameduck)}`)
  } finally {
    await dispatcher.close()
  }
}

/** The direct comparisons: both webhooks up (on the webhooks' CPU), the same body to each. */
async function direct (
  flags: ReturnType<typeof readFlags>,
  body: string,
  goBinary: string,
  side: SideBySide,
  results: Record<string, unknown>
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-bench-'))
  const server = await startBenchServer({ nodeOptions: await deploymentNodeOptions() })
  const peer = await startGoPeer({
    binary: goBinary,
    dir,
    pair: await createSelfSignedKeyPair(),
    namespaces: [SHOP],
    cpu: CPUS?.webhooks
  }).catch(async (err: unknown) => {
    await server.stop()
    throw err
  })
  try {
    if (CPUS !== undefined) await pin(server.pid, CPUS.webhooks)
    const urls = { lameduck: server.url, go: peer.url }
    await checkSameWork(urls, body)
    log("the Go peer and lameduck give the fixture's Pod the same hooks, grace period and marker")
    if (!flags.skip.has('throughput')) {
      const t = await throughput(urls, body, flags.rounds, flags.seconds)
      Object.assign(results, t)
      side.rps = { lameduck: t.mutateRps, go: median(t.goRpsRounds) }
    }
    if (!flags.skip.has('fixed')) {
      const f = await fixedRate(urls, body, flags.fixedSeconds, flags.rounds)
      Object.assign(results, f.keys)
      side.fixed = f.tails
    }
    if (!flags.skip.has('handshake'))
      Object.assign(results, await handshakes(server.url, body, flags.rounds, flags.seconds))
  } finally {
    await server.stop()
    await peer.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Idle RSS, then a soak at 1,000/s, of one started target (on the webhooks' CPU); the target is stopped after. */
async function footprint (
  name: string,
  target: Target,
  body: string,
  seconds: number
): Promise<{ idle: number, soak: SoakResult }> {
  try {
    if (CPUS !== undefined) await pin(target.pid, CPUS.webhooks)
    const idle = await idleRssMb(target.pid, 3)
    const memory = await soak(target, body, seconds, 1000)
    log(
      `${name}: idle RSS ${idle.toFixed(1)} MB; soak ${memory.seconds} s at 1000/s: RSS ${memory.rssMbStart.toFixed(1)} -> ${memory.rssMbEnd.toFixed(1)} MB (max ${memory.rssMbMax.toFixed(1)}), drift ${memory.rssDriftPct.toFixed(1)}%, ${memory.failures} failed`
    )
    return { idle, soak: memory }
  } finally {
    await target.stop()
  }
}

async function memory (
  flags: ReturnType<typeof readFlags>,
  body: string,
  goBinary: string,
  side: SideBySide,
  results: Record<string, unknown>
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-bench-'))
  try {
    const ours = await footprint('lameduck', await startCompiledServe(dir), body, flags.soakSeconds)
    const peer = await startGoPeer({
      binary: goBinary,
      dir,
      pair: await createSelfSignedKeyPair(),
      namespaces: [SHOP],
      cpu: CPUS?.webhooks
    })
    const theirs = await footprint('Go peer', peer, body, flags.soakSeconds)
    const m = ours.soak
    Object.assign(results, {
      rssMb: round2(m.rssMbEnd),
      rssMbMax: round2(m.rssMbMax),
      rssDriftPct: round2(m.rssDriftPct),
      soakSeconds: m.seconds,
      soakRequests: m.requests,
      soakFailed: m.failures,
      soakP99Ms: round2(m.p99Ms),
      goRssMbMax: round2(theirs.soak.rssMbMax),
      goSoakFailed: theirs.soak.failures,
      goSoakP99Ms: round2(theirs.soak.p99Ms)
    })
    side.rss = { lameduckIdle: ours.idle, goIdle: theirs.idle, lameduck: m.rssMbEnd, go: theirs.soak.rssMbEnd }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function run (argv: string[]): Promise<number> {
  const flags = readFlags(argv)
  const body = (await readFile(FIXTURE, 'utf8')).trim()
  if (flags.cpuProf !== undefined) { await profile(flags.cpuProf, body, flags.seconds * flags.rounds); return 0 }
  const results: Record<string, unknown> = {
    fixtureBytes: Buffer.byteLength(body),
    rounds: flags.rounds,
    roundSeconds: flags.seconds,
    loadAverage1mAtStart: round2(loadavg()[0]!),
    pinned: CPUS !== undefined
  }
  const goBinary = await buildGoPeer(log)
  const side: SideBySide = {}
  // The webhooks' children inherit nothing from this: each is pinned on its own.
  if (CPUS !== undefined) await pin(process.pid, CPUS.generator)
  await direct(flags, body, goBinary, side, results)
  if (!flags.skip.has('soak')) await memory(flags, body, goBinary, side, results)
  if (!flags.skip.has('apiserver')) {
    // The API server, etcd and both webhooks share both CPUs, as in a cluster's control plane.
    if (CPUS !== undefined) await pin(process.pid, '0-1')
    const api = await benchApiServer(body, flags.rounds, 100, goBinary, log)
    Object.assign(results, {
      apiserverAddedMsMedian: round2(api.addedMsMedian),
      apiserverAddedMsP99: round2(api.addedMsP99),
      apiserverWithMsMedian: round2(api.withMsMedian),
      apiserverWithoutMsMedian: round2(api.withoutMsMedian),
      apiserverWithMsP99: round2(api.withMsP99),
      apiserverWithoutMsP99: round2(api.withoutMsP99),
      apiserverSamplesPerSide: api.samplesPerSide,
      goAddedMsP99: round2(api.goAddedMsP99),
      goWithMsMedian: round2(api.goWithMsMedian),
      goWithMsP99: round2(api.goWithMsP99),
      rssMbWithInformer: round2(api.rssMb),
      goRssMbApiserver: round2(api.goRssMb)
    })
    side.apiserver = { lameduckAdded: api.addedMsMedian, goAdded: api.goAddedMsMedian }
  }
  Object.assign(results, sideBySideKeys(side), { loadAverage1mAtEnd: round2(loadavg()[0]!) })
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
  if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(results, null, 2)}\n`)
  return 0
}

try {
  process.exitCode = await run(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError) { process.stderr.write(`${err.message}\n${USAGE}\n`); process.exitCode = 2 } else { process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`); process.exitCode = 1 }
}
