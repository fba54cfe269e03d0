/**
 * `npm run bench`: the webhook's speed and memory, as ratios against a baseline measured in the same
 * run wherever possible (the machine is shared and noisy). Results go to stdout and, with `--json
 * FILE`, to a JSON file; BENCHMARKS.md explains them. Not part of `npm test`.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { median, quantile, runHandshakes, runLoad, startBenchServer } from './load.js'
import { soak } from './soak.js'
import { benchApiServer } from './apiserver.js'
import { hotFunctions } from './profile.js'

const USAGE = `Usage: npm run bench -- [flags]
  --json FILE            also write the results as JSON
  --rounds N             rounds of each comparison, medians quoted (default 5)
  --seconds S            length of one throughput round (default 5)
  --fixed-seconds S      length of the fixed 1,000 requests/s run (default 10; BENCHMARKS.md uses 30)
  --soak-seconds S       length of the memory soak at 1,000 requests/s (default 60; 600 for 10 minutes)
  --skip LIST            comma-separated: throughput,fixed,handshake,soak,apiserver
  --cpu-prof DIR         instead: profile the server under /mutate load into DIR and list the hot functions`

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
const round2 = (n: number): number => Math.round(n * 100) / 100
const round3 = (n: number): number => Math.round(n * 1000) / 1000

/**
 * /mutate against two baselines on the same server with the same body, each round in a rotating
 * order: /echo (the body sent back: a bare echo route) and /minimal (the smallest valid answer).
 * Returns the median ratios and rates.
 */
async function throughput (url: string, body: string, rounds: number, seconds: number) {
  const paths = ['mutate', 'echo', 'minimal'] as const
  const rates: Record<string, number[]> = { mutate: [], echo: [], minimal: [] }
  const vsEcho: number[] = []
  const vsMinimal: number[] = []
  for (const path of paths) await runLoad({ url: `${url}/${path}`, body, seconds: 2, connections: 8 }) // warm-up: JIT, TLS sessions
  for (let i = 0; i < rounds; i++) {
    const rps: Record<string, number> = {}
    for (let j = 0; j < paths.length; j++) {
      const path = paths[(i + j) % paths.length]!
      const result = await runLoad({ url: `${url}/${path}`, body, seconds, connections: 8 })
      if (result.failures > 0) throw new Error(`/${path}: ${result.failures} failed requests`)
      rps[path] = result.rps
      rates[path]!.push(result.rps)
    }
    vsEcho.push(rps.mutate! / rps.echo!)
    vsMinimal.push(rps.mutate! / rps.minimal!)
    log(`throughput round ${i + 1}: /mutate ${rps.mutate!.toFixed(0)}/s, /echo ${rps.echo!.toFixed(0)}/s, /minimal ${rps.minimal!.toFixed(0)}/s; vs echo ${vsEcho.at(-1)!.toFixed(3)}, vs minimal ${vsMinimal.at(-1)!.toFixed(3)}`)
  }
  return {
    mutateVsEcho: round3(median(vsEcho)),
    mutateVsMinimal: round3(median(vsMinimal)),
    mutateRps: Math.round(median(rates.mutate!)),
    echoRps: Math.round(median(rates.echo!)),
    minimalRps: Math.round(median(rates.minimal!)),
    ratiosVsEcho: vsEcho.map(round3),
    ratiosVsMinimal: vsMinimal.map(round3)
  }
}

async function fixedRate (url: string, body: string, seconds: number) {
  const result = await runLoad({ url: `${url}/mutate`, body, seconds, connections: 16, rate: 1000 })
  const ms = (q: number): number => round2(quantile(result.latencies, q))
  log(`fixed 1000/s for ${seconds} s: p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, p99.9 ${ms(0.999)} ms, ${result.failures} failed`)
  return { p50MsAt1000: ms(0.5), p99MsAt1000: ms(0.99), p999MsAt1000: ms(0.999), requestsAt1000: result.requests, failedAt1000: result.failures, fixedSeconds: seconds }
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
  const server = await startBenchServer(dir)
  try {
    await runLoad({ url: `${server.url}/mutate`, body, seconds, connections: 8 })
  } finally {
    await server.stop()
  }
  for (const fn of await hotFunctions(dir)) log(`${String(fn.selfPct).padStart(5)}%  ${fn.name}  ${fn.where}`)
}

async function run (argv: string[]): Promise<number> {
  const flags = readFlags(argv)
  const body = (await readFile(FIXTURE, 'utf8')).trim()
  if (flags.cpuProf !== undefined) { await profile(flags.cpuProf, body, flags.seconds * flags.rounds); return 0 }
  const results: Record<string, unknown> = { fixtureBytes: Buffer.byteLength(body), rounds: flags.rounds, roundSeconds: flags.seconds }
  const server = await startBenchServer()
  try {
    if (!flags.skip.has('throughput')) Object.assign(results, await throughput(server.url, body, flags.rounds, flags.seconds))
    if (!flags.skip.has('fixed')) Object.assign(results, await fixedRate(server.url, body, flags.fixedSeconds))
    if (!flags.skip.has('handshake')) Object.assign(results, await handshakes(server.url, body, flags.rounds, flags.seconds))
  } finally {
    await server.stop()
  }
  if (!flags.skip.has('soak')) {
    const memory = await soak(body, flags.soakSeconds, 1000)
    log(`soak ${memory.seconds} s at 1000/s: RSS ${memory.rssMbStart.toFixed(1)} -> ${memory.rssMbEnd.toFixed(1)} MB (max ${memory.rssMbMax.toFixed(1)}), drift ${memory.rssDriftPct.toFixed(1)}%, ${memory.failures} failed`)
    Object.assign(results, { rssMb: round2(memory.rssMbEnd), rssMbMax: round2(memory.rssMbMax), rssDriftPct: round2(memory.rssDriftPct), soakSeconds: memory.seconds, soakRequests: memory.requests, soakFailed: memory.failures, soakP99Ms: round2(memory.p99Ms) })
  }
  if (!flags.skip.has('apiserver')) {
    const api = await benchApiServer(body, flags.rounds, 100, log)
    Object.assign(results, { apiserverAddedMsMedian: round2(api.addedMsMedian), apiserverAddedMsP99: round2(api.addedMsP99), apiserverWithMsMedian: round2(api.withMsMedian), apiserverWithoutMsMedian: round2(api.withoutMsMedian), apiserverWithMsP99: round2(api.withMsP99), apiserverWithoutMsP99: round2(api.withoutMsP99), apiserverSamplesPerSide: api.samplesPerSide })
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
  if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(results, null, 2)}\n`)
  return 0
}

try {
  process.exitCode = await run(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError) { process.stderr.write(`${err.message}\n${USAGE}\n`); process.exitCode = 2 } else { process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`); process.exitCode = 1 }
}
