/**
 * Memory at idle and under a steady load: the real `lameduck serve`, compiled as for the image
 * (key pair from files, namespaces from examples/namespaces.yaml), or the Go peer, at a fixed rate for a while,
 * RSS read from /proc every second. Drift compares the median RSS of the first window (a minute, or
 * a quarter of a shorter soak) with the last.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'
import { compiledEntry, rssBytes, startServeProcess } from '../test/helpers/serve-process.js'
import { runLoad } from './load.js'
import { median, quantile } from './stats.js'

/** What the soak measured. */
export interface SoakResult {
  seconds: number
  rate: number
  requests: number
  failures: number
  p99Ms: number
  rssMbStart: number
  rssMbEnd: number
  rssMbMax: number
  rssDriftPct: number
}

const MB = 1024 * 1024

/** A webhook under test: where it answers, its process, and how to stop it. */
export interface Target { url: string, pid: number, stop: () => Promise<unknown> }

/**
 * The compiled `lameduck serve` as the Deployment runs it (key pair from files, the Deployment's
 * NODE_OPTIONS), with namespaces from examples/namespaces.yaml, as a Target; `dir` holds the pair.
 */
export async function startCompiledServe (dir: string): Promise<Target> {
  const pair = await createSelfSignedKeyPair()
  await writeFile(join(dir, 'tls.crt'), pair.cert)
  await writeFile(join(dir, 'tls.key'), pair.key)
  const webhook = await startServeProcess({ entry: await compiledEntry(), args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--namespaces-file', 'examples/namespaces.yaml'] })
  return { url: `https://127.0.0.1:${webhook.port}`, pid: webhook.pid, stop: webhook.stop }
}

/** The median RSS of a process over `seconds`, sampled every 200 ms, in MB: before any load, its idle footprint. */
export async function idleRssMb (pid: number, seconds: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < seconds * 5; i++) {
    samples.push(await rssBytes(pid))
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return median(samples) / MB
}

/** Runs the soak against a started target (stopping it is the caller's). */
export async function soak (target: Target, fixture: string, seconds: number, rate: number): Promise<SoakResult> {
  const samples: number[] = []
  const sampler = setInterval(() => { void rssBytes(target.pid).then(bytes => samples.push(bytes), () => {}) }, 1000)
  try {
    const load = await runLoad({ url: `${target.url}/mutate`, body: fixture, seconds, connections: 16, rate })
    const window = Math.max(1, Math.floor(Math.min(60, seconds / 4)))
    const first = median(samples.slice(0, window))
    const last = median(samples.slice(-window))
    return {
      seconds,
      rate,
      requests: load.requests,
      failures: load.failures,
      p99Ms: quantile(load.latencies, 0.99),
      rssMbStart: first / MB,
      rssMbEnd: samples.at(-1)! / MB,
      rssMbMax: Math.max(...samples) / MB,
      rssDriftPct: (last - first) / first * 100
    }
  } finally {
    clearInterval(sampler)
  }
}
