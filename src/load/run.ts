/**
 * The load generator behind `lameduck load`: GET one URL at a fixed rate, open model (like vegeta), and
 * record every answer or error compactly, so a rollout's failed requests show up, one by one.
 *
 * Open model: request i is due at `i * 1000 / rate` ms after the start and is handed to the undici
 * Pool at that moment whatever earlier requests are doing; a request that waits for a free connection
 * has its latency counted from when it was due, so queueing shows as latency (no coordinated omission).
 *
 * The generator also measures itself: how late each request was handed to the pool against its
 * schedule (a starved process sends a backlog at once, late), and the event loop's stalls. A run
 * that fell behind measured its own lag, not the server: docs/check.md says how it is judged.
 *
 * No retries, on purpose: a connection the server closes under us is the event we are here to see.
 * `Pool.request` has no retry (only a RetryAgent/RetryHandler would add one). A request written to a
 * keep-alive socket that the server then closes fails with `ECONNRESET` or `UND_ERR_SOCKET` ("other
 * side closed"). undici 7 does wait one event-loop turn before reusing an idle socket, so a FIN or RST
 * that has already arrived sends the request on a fresh connection instead; that request was never
 * sent, so it is no retry.
 */
import { Pool } from 'undici'
import { setTimeout as sleep } from 'node:timers/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { IDENTIFY_BODY_LIMIT, identifyReplica, needsBody, type Identify } from './identify.js'

/** What went wrong when no HTTP status came back. */
export type ErrorKind = 'reset' | 'refused' | 'timeout' | 'other'

/** How `progress` is reported while a run goes on. */
export interface LoadProgress { sent: number, done: number, failed: number }

/** What `runLoad` is asked to do. */
export interface LoadOptions {
  /** http or https URL to GET. */
  url: string
  /** Requests per second, > 0. */
  rate: number
  /** Length of the schedule in ms, > 0. */
  durationMs: number
  /** Most connections open at once, ≥ 1 (default 32). */
  connections?: number
  /** Per-request limit in ms from when the request is handed to the pool (default 10 s). */
  timeoutMs?: number
  /**
   * Reuse connections (default true). False sends `Connection: close` and opens a new connection
   * for every request, as a stream of new clients would: through kube-proxy, conntrack pins a
   * kept-alive connection to the Pod it first reached, so a long-lived client keeps talking to a
   * Pod that endpoints have already forgotten.
   */
  keepAlive?: boolean
  /** Read which replica answered each successful request, and record each one's first and last answer. */
  identify?: Identify
  /** Aborting stops the schedule; requests in flight still finish (or time out) and are reported. */
  signal?: AbortSignal
  /** Called every `progressIntervalMs` (default 1 s) and once at the end. */
  onProgress?: (progress: LoadProgress) => void
  progressIntervalMs?: number
}

/** One distinct outcome: an HTTP status (`"200"`) or an error kind (`"reset"`). */
export interface Outcome {
  label: string
  /** Success is a 2xx or 3xx status (redirects are not followed), as vegeta counts it. */
  ok: boolean
}

/** When one replica answered, in ms from the start of the run (when its answer ended), and how often. */
export interface ReplicaSeen { first: number, last: number, answers: number }

/** The generator's own lag in a run. */
export interface SelfLag {
  /** Per request: how late it was handed to the pool against its schedule, whole ms (at most 65,535). */
  handOffMs: Uint16Array
  /** The largest of those delays, in ms to the µs. */
  maxMs: number
  /** The event loop's longest stall beyond its timer, ms: a time in which nothing was sent or read. */
  maxStallMs: number
}

/** A finished run. Request i was due at `i * 1000 / rate` ms, so the schedule needs no storage. */
export interface LoadResult {
  url: string
  rate: number
  /** Length of the schedule that ran: the asked duration, or less when aborted. */
  durationMs: number
  /** From the start to the last answer. */
  elapsedMs: number
  aborted: boolean
  /** Requests sent; every one of them has an outcome. */
  count: number
  /** Per request: ms from when it was due to the end of its body or its error. */
  latencyMs: Float32Array
  /** Per request: index into `outcomes`. */
  outcome: Uint16Array
  /** How far the generator itself fell behind: runLoad always sets it; a result made by hand may not. */
  lag?: SelfLag
  outcomes: Outcome[]
  /** Raw error codes behind the error kinds, e.g. `{ UND_ERR_SOCKET: 3 }`. */
  errorCodes: Record<string, number>
  /** Response body bytes received. */
  bytesIn: number
  /** Wall-clock time of the start, ms since the epoch: what relates the run's times to other clocks. */
  startedAt?: number
  /** With `identify`: by replica name, when it answered. */
  replicas?: Record<string, ReplicaSeen>
}

/** Default for `connections`. */
export const DEFAULT_CONNECTIONS = 32
/** Default for `timeoutMs`: longer than that is a failure for any service a user waits on. */
export const DEFAULT_TIMEOUT_MS = 10_000
/** Most requests one run may plan: the per-request arrays stay under 80 MB. */
export const MAX_REQUESTS = 10_000_000

const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
const TIMEOUT = new Set(['REQUEST_TIMEOUT', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])
const TIMED_OUT = Object.assign(new Error('request timed out'), { code: 'REQUEST_TIMEOUT' })

/** Options after validation, defaults filled in. */
export type ValidLoadOptions = Required<Omit<LoadOptions, 'signal' | 'onProgress' | 'identify'>>

/** Checks `opts` and fills in defaults; throws an Error naming the first bad option. */
export function validateLoadOptions (opts: LoadOptions): ValidLoadOptions {
  const { rate, durationMs, connections = DEFAULT_CONNECTIONS, timeoutMs = DEFAULT_TIMEOUT_MS, keepAlive = true } = opts
  let url: URL | undefined
  try { url = new URL(opts.url) } catch { /* reported below */ }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) throw new Error(`url must be an http or https URL, got "${opts.url}"`)
  if (!(Number.isFinite(rate) && rate > 0)) throw new Error(`rate must be a number of requests per second above 0, got ${rate}`)
  if (!(Number.isFinite(durationMs) && durationMs > 0)) throw new Error(`duration must be above 0, got ${durationMs} ms`)
  if (!(Number.isSafeInteger(connections) && connections >= 1)) throw new Error(`connections must be a whole number of at least 1, got ${connections}`)
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new Error(`timeout must be above 0, got ${timeoutMs} ms`)
  if (plannedCount(rate, durationMs) > MAX_REQUESTS) throw new Error(`rate × duration plans more than ${MAX_REQUESTS} requests; lower one of them`)
  return {
    url: url.href,
    rate,
    durationMs,
    connections,
    timeoutMs,
    keepAlive,
    progressIntervalMs: opts.progressIntervalMs ?? 1000
  }
}

/** Requests due before the end of the schedule: 200 rps for 1 s is 200 (at 0, 5, …, 995 ms). */
function plannedCount (rate: number, durationMs: number): number {
  // The epsilon keeps 200.00000000000003 from becoming 201.
  return Math.ceil(rate * durationMs / 1000 - 1e-9)
}

/** The kind of a request error, and the code it is counted under. */
export function classifyError (err: unknown): { kind: ErrorKind, code: string } {
  const code = errorCode(err)
  if (RESET.has(code)) return { kind: 'reset', code }
  if (code === 'ECONNREFUSED') return { kind: 'refused', code }
  if (TIMEOUT.has(code)) return { kind: 'timeout', code }
  return { kind: 'other', code }
}

function errorCode (err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'unknown'
  const e = err as { code?: unknown, name?: unknown, errors?: unknown, cause?: unknown }
  if (typeof e.code === 'string') return e.code
  // Node's happy-eyeballs connect (several addresses) fails with an AggregateError of the attempts.
  if (Array.isArray(e.errors) && e.errors.length > 0) return errorCode(e.errors[0])
  if (e.cause !== undefined) return errorCode(e.cause)
  return typeof e.name === 'string' ? e.name : 'unknown'
}

/** The event-loop delay monitor's sampling interval, ms: a stall is a sample's delay beyond it. */
const STALL_RESOLUTION_MS = 20

/** Keeps per-request results in typed arrays: 8 bytes a request, whatever the run length. */
class Recorder {
  readonly latencyMs: Float32Array
  readonly outcome: Uint16Array
  readonly lagMs: Uint16Array
  maxLagMs = 0
  readonly outcomes: Outcome[] = []
  readonly errorCodes: Record<string, number> = {}
  readonly replicas = new Map<string, ReplicaSeen>()
  private readonly index = new Map<string, number>()
  sent = 0
  done = 0
  failed = 0
  bytesIn = 0

  constructor (planned: number) {
    this.latencyMs = new Float32Array(planned)
    this.outcome = new Uint16Array(planned)
    this.lagMs = new Uint16Array(planned)
  }

  /** Notes that request i, due at `dueAt`, is handed off now. */
  handOff (i: number, dueAt: number): void {
    const lag = performance.now() - dueAt
    // Uint16Array clamps nothing on its own (it wraps): saturate at its top.
    this.lagMs[i] = Math.min(65_535, Math.round(lag))
    this.maxLagMs = Math.max(this.maxLagMs, lag)
    this.sent++
  }

  record (i: number, latencyMs: number, atMs: number, { outcome, code, bytes, replica }: Shot): void {
    let index = this.index.get(outcome.label)
    if (index === undefined) {
      index = this.outcomes.push(outcome) - 1
      this.index.set(outcome.label, index)
    }
    this.latencyMs[i] = latencyMs
    this.outcome[i] = index
    if (code !== undefined) this.errorCodes[code] = (this.errorCodes[code] ?? 0) + 1
    this.bytesIn += bytes
    if (replica !== undefined) {
      const seen = this.replicas.get(replica)
      if (seen === undefined) this.replicas.set(replica, { first: atMs, last: atMs, answers: 1 })
      else { seen.last = Math.max(seen.last, atMs); seen.answers++ }
    }
    this.done++
    if (!outcome.ok) this.failed++
  }

  progress (): LoadProgress { return { sent: this.sent, done: this.done, failed: this.failed } }
}

/** What one request came to. */
interface Shot { outcome: Outcome, code?: string, bytes: number, replica?: string }

/** One GET, read to the end; never rejects. */
async function fire (
  pool: Pool,
  path: string,
  timeoutMs: number,
  keepAlive: boolean,
  identify?: Identify
): Promise<Shot> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(TIMED_OUT)
  }, timeoutMs)
  let bytes = 0
  let shot: Shot
  try {
    // `reset: true` is undici's Connection: close, and the socket is closed after the answer.
    const res = await pool.request({
      path,
      method: 'GET',
      signal: controller.signal,
      reset: !keepAlive,
      headers: { 'user-agent': 'lameduck-load' }
    })
    // Read the whole body: a reset half-way through is a failure, and the socket stays reusable.
    const keep = identify !== undefined && needsBody(identify) ? IDENTIFY_BODY_LIMIT : 0
    const kept: Buffer[] = []
    for await (const chunk of res.body) {
      if (bytes < keep) kept.push(chunk as Buffer)
      bytes += (chunk as Buffer).length
    }
    const ok = res.statusCode < 400
    const replica =
      ok && identify !== undefined
        ? identifyReplica(identify, res.headers, Buffer.concat(kept).toString('utf8'))
        : undefined
    shot = { outcome: { label: String(res.statusCode), ok }, bytes, ...(replica === undefined ? {} : { replica }) }
  } catch (err) {
    const { kind, code } = classifyError(err)
    shot = { outcome: { label: kind, ok: false }, code, bytes }
  }
  clearTimeout(timer)
  return shot
}

/** Runs the schedule; resolves once every request sent has an outcome. */
export async function runLoad (opts: LoadOptions): Promise<LoadResult> {
  const o = validateLoadOptions(opts)
  const { signal, onProgress } = opts
  const planned = plannedCount(o.rate, o.durationMs)
  const url = new URL(o.url)
  const pool = new Pool(url.origin, { connections: o.connections })
  const rec = new Recorder(planned)
  const inFlight = new Set<Promise<void>>()
  const progress = onProgress && setInterval(() => { onProgress(rec.progress()) }, o.progressIntervalMs)
  const stalls = monitorEventLoopDelay({ resolution: STALL_RESOLUTION_MS })
  stalls.enable()
  const start = performance.now()
  const send = (i: number, dueAt: number): void => {
    rec.handOff(i, dueAt)
    const p = fire(pool, url.pathname + url.search, o.timeoutMs, o.keepAlive, opts.identify).then(shot => {
      const now = performance.now()
      rec.record(i, now - dueAt, round3(now - start), shot)
      inFlight.delete(p)
    })
    inFlight.add(p)
  }
  try {
    await schedule(planned, o.rate, start, send, signal)
    // Every request has its own timeout, so this wait is bounded by it.
    while (inFlight.size > 0) await Promise.all(inFlight)
  } finally {
    clearInterval(progress)
    stalls.disable()
    await pool.destroy()
  }
  onProgress?.(rec.progress())
  const { sent } = rec
  return {
    url: o.url, rate: o.rate, durationMs: sent < planned ? sent * 1000 / o.rate : o.durationMs,
    elapsedMs: performance.now() - start, aborted: sent < planned, count: sent,
    latencyMs: rec.latencyMs.subarray(0, sent), outcome: rec.outcome.subarray(0, sent),
    lag: {
      handOffMs: rec.lagMs.subarray(0, sent),
      maxMs: round3(rec.maxLagMs),
      // The histogram holds whole intervals (ns): a stall is what came beyond the sampling interval.
      maxStallMs: round3(Math.max(0, stalls.max / 1e6 - STALL_RESOLUTION_MS))
    },
    outcomes: rec.outcomes, errorCodes: rec.errorCodes, bytesIn: rec.bytesIn,
    startedAt: Math.round(performance.timeOrigin + start),
    ...(opts.identify === undefined ? {} : { replicas: Object.fromEntries(rec.replicas) })
  }
}

function round3 (n: number): number { return Math.round(n * 1000) / 1000 }

/** Sends every request that is due, then sleeps until the next one is, until all are sent or aborted. */
async function schedule (
  planned: number,
  rate: number,
  start: number,
  send: (i: number, dueAt: number) => void,
  signal?: AbortSignal
): Promise<void> {
  const dueAt = (i: number): number => start + (i * 1000) / rate
  let next = 0
  while (next < planned && signal?.aborted !== true) {
    // A late timer sends the whole backlog at once, each request still timed from when it was due.
    const now = performance.now()
    for (; next < planned && dueAt(next) <= now; next++) send(next, dueAt(next))
    if (next < planned) await sleep(Math.max(0, dueAt(next) - now), undefined, { signal }).catch(() => undefined)
  }
}
