/**
 * What a load run came to, as vegeta reports it: a text report for people and a JSON report for
 * `lameduck check` and the demo (timeline pictures, runs side by side). Pure: no clock, no I/O.
 */
import type { LoadResult, ReplicaSeen } from './run.js'

/** Width of a timeline bucket, by when requests were due. */
export const BUCKET_MS = 100
/** A request handed off more than this after it was due was sent late: the generator fell behind. */
export const LATE_MS = 100

/** Latency summary in ms, percentiles by nearest rank over every request, failed ones included. */
export interface LatencySummary {
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

/**
 * Requests due in `[t, t + bucketMs)` ms, with their outcomes (`{ "200": 18, "reset": 2 }`) and the
 * largest hand-off delay among them, whole ms (absent from older writers).
 */
export interface TimelineBucket {
  t: number
  requests: number
  failed: number
  statuses: Record<string, number>
  lagMs?: number
}

/** The JSON report. `statuses` keys are HTTP statuses or error kinds (`reset`, `refused`, `timeout`, `other`). */
export interface JsonReport {
  url: string
  requests: number
  succeeded: number
  failed: number
  /** `succeeded / requests`; 0 when nothing was sent, so an empty run never passes. */
  successRatio: number
  /** Asked rate, requests per second. */
  rate: number
  /** Successful requests per second of `elapsedMs`. */
  throughput: number
  durationMs: number
  elapsedMs: number
  aborted: boolean
  bytesIn: number
  latencyMs: LatencySummary
  statuses: Record<string, number>
  /** Raw error codes behind the error kinds, e.g. `{ "UND_ERR_SOCKET": 3 }`. */
  errors: Record<string, number>
  bucketMs: number
  /** One bucket per `bucketMs` from 0, empty ones included, so index × bucketMs = t. */
  timeline: TimelineBucket[]
  /** The largest delay, ms, between when a request was due and when it was handed off (absent from older writers). */
  maxLagMs?: number
  /** Share of requests handed off more than LATE_MS after they were due. */
  lateShare?: number
  /** The event loop's longest stall, ms: a time in which the generator neither sent nor read anything. */
  maxStallMs?: number
  /** Wall-clock start, ms since the epoch (absent from older writers). */
  startedAt?: number
  /** With `--identify`: each replica's first and last answer, in ms from the start, and its count. */
  replicas?: Record<string, ReplicaSeen>
}

/** Nearest-rank percentile (0 < p ≤ 100) of ascending `sorted`; 0 for none. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)]!
}

/** Min, mean, percentiles and max of `latencies`, rounded to the µs. */
export function summarizeLatencies (latencies: Float32Array): LatencySummary {
  const sorted = Float32Array.from(latencies).sort()
  let sum = 0
  for (const v of sorted) sum += v
  const pick = (p: number): number => round3(percentile(sorted, p))
  return {
    min: round3(sorted[0] ?? 0), mean: round3(sorted.length === 0 ? 0 : sum / sorted.length),
    p50: pick(50), p90: pick(90), p95: pick(95), p99: pick(99), max: round3(sorted[sorted.length - 1] ?? 0)
  }
}

function round3 (n: number): number { return Math.round(n * 1000) / 1000 }

function bump (counts: Record<string, number>, key: string): void { counts[key] = (counts[key] ?? 0) + 1 }

/** Buckets of `bucketMs` by when each request was due (`i * 1000 / rate`). */
export function buildTimeline (result: LoadResult, bucketMs = BUCKET_MS): TimelineBucket[] {
  const last = Math.max(
    Math.ceil(result.durationMs / bucketMs),
    Math.floor(((result.count - 1) * 1000) / result.rate / bucketMs) + 1
  )
  const lagMs = result.lag?.handOffMs
  const timeline = Array.from({ length: last }, (_, b): TimelineBucket =>
    ({ t: b * bucketMs, requests: 0, failed: 0, statuses: {}, ...(lagMs === undefined ? {} : { lagMs: 0 }) }))
  for (let i = 0; i < result.count; i++) {
    const bucket = timeline[Math.floor(i * 1000 / result.rate / bucketMs)]!
    const outcome = result.outcomes[result.outcome[i]!]!
    bucket.requests++
    if (!outcome.ok) bucket.failed++
    bump(bucket.statuses, outcome.label)
    if (lagMs !== undefined) bucket.lagMs = Math.max(bucket.lagMs!, lagMs[i]!)
  }
  return timeline
}

/** The JSON report of `result`. */
export function toJsonReport (result: LoadResult): JsonReport {
  const statuses: Record<string, number> = {}
  let succeeded = 0
  for (const index of result.outcome) {
    const outcome = result.outcomes[index]!
    bump(statuses, outcome.label)
    if (outcome.ok) succeeded++
  }
  const requests = result.count
  return {
    url: result.url, requests, succeeded, failed: requests - succeeded,
    successRatio: requests === 0 ? 0 : succeeded / requests, rate: result.rate,
    throughput: result.elapsedMs > 0 ? round3(succeeded * 1000 / result.elapsedMs) : 0,
    durationMs: round3(result.durationMs), elapsedMs: round3(result.elapsedMs), aborted: result.aborted,
    bytesIn: result.bytesIn, latencyMs: summarizeLatencies(result.latencyMs), statuses: sortCounts(statuses),
    errors: sortCounts(result.errorCodes), bucketMs: BUCKET_MS, timeline: buildTimeline(result),
    ...lagFigures(result),
    ...(result.startedAt === undefined ? {} : { startedAt: result.startedAt }),
    ...(result.replicas === undefined ? {} : { replicas: result.replicas })
  }
}

/** maxLagMs, lateShare and maxStallMs, when the result has them. */
function lagFigures ({ lag, count }: LoadResult): Pick<JsonReport, 'maxLagMs' | 'lateShare' | 'maxStallMs'> {
  if (lag === undefined) return {}
  let late = 0
  for (const ms of lag.handOffMs) if (ms > LATE_MS) late++
  return { maxLagMs: lag.maxMs, lateShare: count === 0 ? 0 : late / count, maxStallMs: lag.maxStallMs }
}

const KIND_ORDER = ['reset', 'refused', 'timeout', 'other']

/** HTTP statuses ascending, then error kinds in a fixed order, then anything else by name. */
function sortCounts (counts: Record<string, number>): Record<string, number> {
  const rank = (k: string): number => /^\d+$/.test(k) ? Number(k) : 1000 + (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length)
  const keys = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  return Object.fromEntries(keys.map(k => [k, counts[k]!]))
}

/** `0.5` → `500µs`, `12.3456` → `12.35ms`, `1234` → `1.234s`. */
export function formatMs (ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`
  if (ms < 1000) return `${ms.toFixed(2)}ms`
  return `${(ms / 1000).toFixed(3)}s`
}

/** The text report, vegeta-style, of a result or of a JSON report read back. */
export function formatReport (result: LoadResult | JsonReport): string {
  const r = 'outcome' in result ? toJsonReport(result) : result
  const l = r.latencyMs
  const counts = (c: Record<string, number>): string => Object.entries(c).map(([k, n]) => `${k}:${n}`).join(' ')
  const rows: Array<[string, string]> = [
    ['Requests      [total, rate, throughput]', `${r.requests}, ${r.rate.toFixed(2)}, ${r.throughput.toFixed(2)}`],
    ['Duration      [total, attack, wait]', [r.elapsedMs, r.durationMs, Math.max(0, r.elapsedMs - r.durationMs)].map(formatMs).join(', ')],
    ['Latencies     [min, mean, 50, 90, 95, 99, max]', [l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.max].map(formatMs).join(', ')],
    ['Bytes In      [total]', String(r.bytesIn)],
    ['Success       [ratio]', `${(r.successRatio * 100).toFixed(2)}%`],
    ['Status Codes  [code:count]', counts(r.statuses)],
    ['Error Codes   [code:count]', counts(r.errors)]
  ]
  if (r.maxLagMs !== undefined) {
    const late = `${(r.lateShare! * 100).toFixed(2)}% over ${LATE_MS}ms`
    const lag = `${formatMs(r.maxLagMs)}, ${late}, ${formatMs(r.maxStallMs!)}`
    rows.push(['Lag           [max, sent late, longest stall]', lag])
  }
  if (r.replicas !== undefined) rows.push(['Replicas      [name:answers]', Object.entries(r.replicas).map(([name, seen]) => `${name}:${seen.answers}`).join(' ')])
  if (r.aborted) rows.push(['Aborted', 'yes: the schedule was stopped early'])
  return rows.map(([k, v]) => `${k.padEnd(48)}${v}`.trimEnd()).join('\n') + '\n'
}

const LATENCY_KEYS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max'] as const

/**
 * Reads a JSON report back (`lameduck check` takes it from a load Job's log) and checks its shape and
 * that its counts add up, so a truncated or foreign text is never read as "zero failed"; throws an
 * Error naming the first thing wrong. Unknown extra fields are kept, for newer writers.
 */
export function parseJsonReport (text: string): JsonReport {
  let value: unknown
  try { value = JSON.parse(text) } catch (err) { return fail(`not JSON (${(err as Error).message})`) }
  const r = object(value, 'the report')
  if (typeof r.url !== 'string') fail('url is not a string')
  if (typeof r.aborted !== 'boolean') fail('aborted is not true or false')
  const requests = count(r.requests, 'requests')
  if (count(r.succeeded, 'succeeded') + count(r.failed, 'failed') !== requests) fail('succeeded + failed is not requests')
  count(r.bytesIn, 'bytesIn')
  if (number(r.successRatio, 'successRatio') > 1) fail('successRatio is above 1')
  for (const k of ['throughput', 'durationMs', 'elapsedMs'] as const) number(r[k], k)
  if (number(r.rate, 'rate') === 0) fail('rate is 0')
  const latency = object(r.latencyMs, 'latencyMs')
  for (const k of LATENCY_KEYS) number(latency[k], `latencyMs.${k}`)
  if (counts(r.statuses, 'statuses') !== requests) fail('statuses do not add up to requests')
  counts(r.errors, 'errors')
  if (number(r.bucketMs, 'bucketMs') === 0) fail('bucketMs is 0')
  if (!Array.isArray(r.timeline)) fail('timeline is not a list')
  let inTimeline = 0
  for (const [i, item] of (r.timeline as unknown[]).entries()) inTimeline += bucket(item, `timeline[${i}]`)
  if (inTimeline !== requests) fail('timeline does not add up to requests')
  if (r.startedAt !== undefined) number(r.startedAt, 'startedAt')
  const lag = ['maxLagMs', 'lateShare', 'maxStallMs'] as const
  if (lag.some(k => r[k] === undefined) && lag.some(k => r[k] !== undefined)) fail(`${lag.join(', ')} go together`)
  if (r.maxLagMs !== undefined) {
    for (const k of lag) number(r[k], k)
    if ((r.lateShare as number) > 1) fail('lateShare is above 1')
  }
  if (r.replicas !== undefined) {
    let answers = 0
    for (const [name, seen] of Object.entries(object(r.replicas, 'replicas'))) answers += replica(seen, `replicas.${name}`)
    if (answers > (r.succeeded as number)) fail('replicas answered more requests than succeeded')
  }
  return value as JsonReport
}

function fail (what: string): never { throw new Error(`not a lameduck load report: ${what}`) }

function object (v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${name} is not an object`)
  return v as Record<string, unknown>
}

function number (v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${name} is not a number ≥ 0`)
  return v as number
}

function count (v: unknown, name: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`${name} is not a count`)
  return v as number
}

/** Checks a `{ key: count }` map; returns the sum. */
function counts (v: unknown, name: string): number {
  return Object.entries(object(v, name)).reduce((sum, [k, n]) => sum + count(n, `${name}.${k}`), 0)
}

/** Checks one replica's record; returns its answer count. */
function replica (v: unknown, name: string): number {
  const seen = object(v, name)
  if (number(seen.first, `${name}.first`) > number(seen.last, `${name}.last`)) fail(`${name}.first is after its last`)
  return count(seen.answers, `${name}.answers`)
}

/** Checks one timeline bucket; returns its request count. */
function bucket (v: unknown, name: string): number {
  const b = object(v, name)
  number(b.t, `${name}.t`)
  const requests = count(b.requests, `${name}.requests`)
  if (count(b.failed, `${name}.failed`) > requests) fail(`${name}.failed is above its requests`)
  if (counts(b.statuses, `${name}.statuses`) !== requests) fail(`${name}.statuses do not add up to its requests`)
  if (b.lagMs !== undefined) number(b.lagMs, `${name}.lagMs`)
  return requests
}
