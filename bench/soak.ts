/**
 * Memory under a steady load: the real `lameduck serve` (self-signed, namespaces from
 * examples/namespaces.yaml) at a fixed rate for a while, its RSS read from /proc every second. Drift
 * compares the median RSS of the first window (a minute, or a quarter of a shorter soak) with the last.
 */
import { rssBytes, startServeProcess } from '../test/helpers/serve-process.js'
import { median, quantile, runLoad } from './load.js'

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

/** Runs the soak; the webhook is stopped (by PID) whatever happens. */
export async function soak (fixture: string, seconds: number, rate: number): Promise<SoakResult> {
  const webhook = await startServeProcess({ args: ['--self-signed', '--namespaces-file', 'examples/namespaces.yaml'] })
  const samples: number[] = []
  const sampler = setInterval(() => { void rssBytes(webhook.pid).then(bytes => samples.push(bytes), () => {}) }, 1000)
  try {
    const load = await runLoad({ url: `https://127.0.0.1:${webhook.port}/mutate`, body: fixture, seconds, connections: 16, rate })
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
    await webhook.stop()
  }
}
