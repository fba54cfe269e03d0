/**
 * Whether a load run can be judged. A generator that fell behind its schedule (starved of CPU, or
 * stopped) sends its backlog at once, late: what it reports then is its own starvation, not the
 * server's, and it sent less load than it says while it lagged. So a run whose requests, due while
 * the Pods were stopped, went out more than LAG_LIMIT_MS late gets no verdict, pass or fail. Pure.
 */
import { formatMs, type JsonReport } from './report.js'

/** Most a request due during the disruption may go out late for the run to be judged. */
export const LAG_LIMIT_MS = 1000

/** A stretch of a run, in ms from the load's start, by when requests were due. */
export interface LagWindow { fromMs: number, toMs: number }

/**
 * The largest hand-off delay, in ms, among requests due in `window` (the whole run without one), or
 * undefined when the report has no lag figures (an older `lameduck load`).
 */
export function lagDuring (report: JsonReport, window?: LagWindow): number | undefined {
  if (report.maxLagMs === undefined) return undefined
  if (window === undefined) return report.maxLagMs
  let max = 0
  for (const bucket of report.timeline) {
    if (bucket.t + report.bucketMs > window.fromMs && bucket.t <= window.toMs) max = Math.max(max, bucket.lagMs ?? 0)
  }
  return max
}

/** The window from one moment to another, both ms since the epoch, on the load's start; undefined without it. */
export function windowOf (report: JsonReport, fromAt: number, toAt: number): LagWindow | undefined {
  if (report.startedAt === undefined) return undefined
  return { fromMs: fromAt - report.startedAt, toMs: toAt - report.startedAt }
}

/** Why there is no verdict, and what to do: one sentence. */
export function laggedLine (lagMs: number, rate: number, remedy: string): string {
  return `the load generator fell behind its schedule by up to ${formatMs(lagMs)} while the Pods were ` +
    `stopped (more than ${formatMs(LAG_LIMIT_MS)}): its failures and successes then measure its own ` +
    `lack of CPU, not the rollout. Run it again with ${remedy} or a rate below ${rate} requests/s`
}
