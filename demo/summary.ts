/**
 * One run of the demo in a few numbers (what the table shows and `--json` writes), from the load
 * generator's report and nginx's access log. Pure.
 */
import type { JsonReport } from '../src/load/report.js'
import { LAG_LIMIT_MS, lagDuring, laggedLine, windowOf } from '../src/load/lag.js'

/**
 * Something that happened to a replica during a run, in ms from the start of the load: its Pod
 * deleted (the kubelet starts its preStop at once), its endpoint not ready in the EndpointSlice,
 * the load balancer no longer routing to it, and SIGTERM (when preStop ends, read from the stored Pod).
 */
export interface RunEvent {
  tMs: number
  kind: 'pod-deleted' | 'endpoint-not-ready' | 'endpoint-removed' | 'sigterm' | 'sigkill'
  pod: string
}

/** The numbers of one run. `5xx`, `resets` and the others are subsets of `failed`. */
export interface RunSummary {
  requests: number
  failed: number
  '5xx': number
  resets: number
  refused: number
  timeouts: number
  p99Ms: number
  /** Requests nginx sent to more than one backend (only with `--retries`): failures it hid. */
  retried: number
  /** The slow requests among `requests` (the nginx scenario only): how many, and how many of them failed. */
  slow?: { requests: number, failed: number }
  /** Every status or error kind, with its count. */
  statuses: Record<string, number>
  events: RunEvent[]
  /**
   * How far behind its schedule the load fell while the Pods were stopped: the largest delay, ms,
   * between when a request was due and when it went out (the slow requests' too); null when unknown.
   */
  loadLagMs: number | null
  /** Set when that is over LAG_LIMIT_MS: why this path has no verdict (its counts are not the rollout's). */
  noVerdict?: string
}

/** When the Pods were stopped: from the first deletion to the last old Pod gone, ms since the epoch. */
export interface Disruption { fromAt: number, toAt: number }

/** Requests in nginx's access log (format ACCESS_LOG_FORMAT) that went to more than one backend. */
export function countRetried (accessLog: string): number {
  let retried = 0
  for (const line of accessLog.split('\n')) {
    const addresses = /^\S+ \d+ "([^"]*)"/.exec(line)?.[1]
    if (addresses?.includes(',') === true) retried++
  }
  return retried
}

/** The largest hand-off delay of the reports during the disruption (each on its own start); null when unknown. */
function lagOf (reports: ReadonlyArray<JsonReport | undefined>, disruption: Disruption | undefined): number | null {
  const lags = reports.flatMap(report => {
    if (report === undefined) return []
    const window = disruption === undefined ? undefined : windowOf(report, disruption.fromAt, disruption.toAt)
    const lag = lagDuring(report, window)
    return lag === undefined ? [] : [lag]
  })
  return lags.length === 0 ? null : Math.max(...lags)
}

/**
 * The summary of a run: its load report, nginx's access log, what happened to its replicas, and the
 * report of the slow requests sent besides the load, if any: they count in `requests`, `failed` and
 * the statuses, and `slow` says how many they were; the p99 is the load's alone. With the
 * disruption's moments, the loads' lag is read from then only (else from the whole run).
 */
export function summarizeRun (
  report: JsonReport, accessLog: string, events: readonly RunEvent[], slow?: JsonReport, disruption?: Disruption
): RunSummary {
  const statuses: Record<string, number> = { ...report.statuses }
  for (const [label, n] of Object.entries(slow?.statuses ?? {})) statuses[label] = (statuses[label] ?? 0) + n
  const count = (match: (label: string) => boolean): number =>
    Object.entries(statuses).reduce((sum, [label, n]) => match(label) ? sum + n : sum, 0)
  const loadLagMs = lagOf([report, slow], disruption)
  return {
    requests: report.requests + (slow?.requests ?? 0),
    failed: report.failed + (slow?.failed ?? 0),
    '5xx': count(label => /^5\d\d$/.test(label)),
    resets: count(label => label === 'reset'),
    refused: count(label => label === 'refused'),
    timeouts: count(label => label === 'timeout'),
    p99Ms: report.latencyMs.p99,
    retried: countRetried(accessLog),
    ...(slow === undefined ? {} : { slow: { requests: slow.requests, failed: slow.failed } }),
    statuses,
    events: [...events].sort((a, b) => a.tMs - b.tMs),
    loadLagMs,
    ...(loadLagMs !== null && loadLagMs > LAG_LIMIT_MS
      ? { noVerdict: laggedLine(loadLagMs, report.rate, 'a machine less busy') }
      : {})
  }
}

/** The middle value (the mean of the two middle ones); 0 for none: the median of a run's pauses. */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return 0
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
