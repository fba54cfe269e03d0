/**
 * What a `lameduck check` run came to: the JSON report read back from the load Pod's log, and the
 * verdict, which passes only when every request succeeded, and is not given when the load fell
 * behind its schedule while the Pods were stopped (load/lag.ts). Pure.
 */
import { LAG_LIMIT_MS, lagDuring, laggedLine, windowOf } from '../load/lag.js'
import { parseJsonReport, type JsonReport } from '../load/report.js'
import type { PodTimes } from './observe.js'

/** The verdict: exit code 0 (pass), 1 (fail) or 3 (no verdict), and the one line that says why. */
export interface Verdict { code: 0 | 1 | 3, line: string }

/** The exit code of a run that cannot be judged: the load measured itself. */
export const NO_VERDICT = 3

/**
 * The JSON report in a load Pod's log. The log interleaves stdout (the text report, then the JSON
 * report as one line) with stderr (progress), so the report is the last line that is a JSON object.
 * Throws, quoting the log's last lines, when there is none or it does not read as a report.
 */
export function extractReport (log: string): JsonReport {
  const lines = log.split('\n').map(line => line.trim()).filter(line => line !== '')
  const json = lines.findLast(line => line.startsWith('{'))
  if (json === undefined) {
    const tail = lines.slice(-3).join(' | ')
    throw new Error(`the load Pod's log has no JSON report${tail === '' ? ' (it is empty)' : ` (it ends: ${tail})`}`)
  }
  return parseJsonReport(json)
}

/** An outcome that counts as failed: an error kind, or an HTTP status of 400 or more (as `lameduck load` counts). */
function isFailure (label: string): boolean {
  return !/^\d+$/.test(label) || Number(label) >= 400
}

/**
 * When the old Pods were stopped, ms since the epoch: from the first deletion to the last moment
 * seen of any of them (its exit, its endpoint's removal, its SIGTERM); undefined when none was seen.
 */
export function disruptionOf (pods: readonly PodTimes[]): { fromAt: number, toAt: number } | undefined {
  if (pods.length === 0) return undefined
  const moments = pods.flatMap(p => [p.deletedAt, p.exitedAt, p.endpointRemovedAt, p.sigtermAt])
    .filter(t => t !== undefined)
  return { fromAt: Math.min(...pods.map(p => p.deletedAt)), toAt: Math.max(...moments) }
}

/**
 * Pass only if requests were sent, all of them, and none failed; else say how many failed and how.
 * No verdict when the load fell more than LAG_LIMIT_MS behind while the old Pods were stopped (the
 * whole run when none was seen): `remedy` says what to give it.
 */
export function judge (report: JsonReport, pods: readonly PodTimes[] = [], remedy = 'more CPU for the load'): Verdict {
  if (report.requests === 0) return { code: 1, line: 'FAIL: no request was sent' }
  if (report.aborted) return { code: 1, line: `FAIL: the load stopped early, after ${report.requests} requests` }
  const disruption = disruptionOf(pods)
  const window = disruption === undefined ? undefined : windowOf(report, disruption.fromAt, disruption.toAt)
  const lag = lagDuring(report, window)
  if (lag !== undefined && lag > LAG_LIMIT_MS) {
    return { code: NO_VERDICT, line: `NO VERDICT: ${laggedLine(lag, report.rate, remedy)}` }
  }
  if (report.failed === 0) return { code: 0, line: `PASS: all ${report.requests} requests succeeded during the rollout` }
  const kinds = Object.entries(report.statuses).filter(([label]) => isFailure(label)).map(([label, n]) => `${label}:${n}`).join(' ')
  return { code: 1, line: `FAIL: ${report.failed} of ${report.requests} requests failed during the rollout (${kinds})` }
}
