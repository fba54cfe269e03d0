/**
 * What a `lameduck check` run came to: the JSON report read back from the load Pod's log, and the
 * verdict, which passes only when every request succeeded. Pure.
 */
import { parseJsonReport, type JsonReport } from '../load/report.js'

/** The verdict: exit code 0 (pass) or 1 (fail), and the one line that says why. */
export interface Verdict { code: 0 | 1, line: string }

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

/** Pass only if requests were sent, all of them, and none failed; else say how many failed and how. */
export function judge (report: JsonReport): Verdict {
  if (report.requests === 0) return { code: 1, line: 'FAIL: no request was sent' }
  if (report.aborted) return { code: 1, line: `FAIL: the load stopped early, after ${report.requests} requests` }
  if (report.failed === 0) return { code: 0, line: `PASS: all ${report.requests} requests succeeded during the rollout` }
  const kinds = Object.entries(report.statuses).filter(([label]) => isFailure(label)).map(([label, n]) => `${label}:${n}`).join(' ')
  return { code: 1, line: `FAIL: ${report.failed} of ${report.requests} requests failed during the rollout (${kinds})` }
}
