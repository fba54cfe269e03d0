/**
 * What a node loss came to, for each layout of the Pods: how many requests failed on each path,
 * from when to when after the loss, and the control plane's own milestones (the node marked
 * unready, its Pods evicted, a replacement Ready) that explain it. Pure: node-loss.ts runs it.
 */
import type { JsonReport } from '../src/load/report.js'
import type { RunEvent, RunSummary } from './summary.js'

/** When requests failed, in seconds after the loss; null when none did. */
export interface FailureWindow { firstS: number, lastS: number }

/** The control plane's milestones, in seconds after the loss; null for what never came during the run. */
export interface Milestones {
  /** The node's Ready condition turned Unknown (the API server's timestamp: whole seconds). */
  nodeUnreadyS: number | null
  /** Its Pods' endpoints were no longer ready in the EndpointSlice, so new connections went elsewhere. */
  endpointsGoneS: number | null
  /** The Pods on it were evicted (the tolerations of its taint ran out), so replacements are made. */
  evictedS: number | null
  /** As many Ready replicas as before, none on the lost node (whole seconds). */
  replacedS: number | null
}

/** One layout's result: both paths, their totals, their failure windows, the milestones. */
export interface LayoutResult {
  layout: string
  lostNode: string
  requests: number
  failed: number
  clusterIP: RunSummary
  loadBalancer: RunSummary
  windows: { clusterIP: FailureWindow | null, loadBalancer: FailureWindow | null }
  milestones: Milestones
}

/** The first and last bucket with a failure at or after `lossMs` (the report's own clock), as seconds after it. */
export function failureWindow (
  report: Pick<JsonReport, 'timeline' | 'bucketMs'>, lossMs: number
): FailureWindow | null {
  const failing = report.timeline.filter(bucket => bucket.failed > 0 && bucket.t + report.bucketMs > lossMs)
  if (failing.length === 0) return null
  const seconds = (ms: number): number => Math.round(Math.max(0, ms - lossMs) / 100) / 10
  return { firstS: seconds(failing[0]!.t), lastS: seconds(failing.at(-1)!.t + report.bucketMs) }
}

/**
 * When the lost node's Pods (those marked `sigkill` at the loss) left the EndpointSlice and were
 * evicted, in seconds after the loss, from a run's own marks; null unless every one of them did.
 */
export function markedMilestones (events: readonly RunEvent[]): Pick<Milestones, 'endpointsGoneS' | 'evictedS'> {
  const kills = events.filter(e => e.kind === 'sigkill')
  if (kills.length === 0) return { endpointsGoneS: null, evictedS: null }
  const lossMs = Math.min(...kills.map(e => e.tMs))
  const last = (kind: RunEvent['kind']): number | null => {
    const times = kills.map(kill => events.find(e => e.kind === kind && e.pod === kill.pod)?.tMs)
    return times.some(ms => ms === undefined) ? null : Math.round((Math.max(...times as number[]) - lossMs) / 100) / 10
  }
  return { endpointsGoneS: last('endpoint-not-ready'), evictedS: last('pod-deleted') }
}

/** Seconds from `from` to the ISO time `at` (the API server's timestamps: whole seconds), or null. */
export function secondsAfter (from: number, at: string | undefined): number | null {
  if (at === undefined) return null
  const ms = Date.parse(at)
  return Number.isNaN(ms) ? null : Math.max(0, Math.round((ms - from) / 1000))
}

const window = (w: FailureWindow | null): string => w === null ? '' : ` (+${w.firstS}s to +${w.lastS}s)`
const at = (s: number | null): string => s === null ? '-' : `+${s}s`

/** The table of every layout: failed requests on each path and when, and the milestones. */
export function formatNodeLossTable (rows: readonly LayoutResult[]): string {
  const table = [
    ['', 'through the ClusterIP', 'through nginx', 'node unready', 'endpoints gone', 'Pods evicted', 'replaced'],
    ...rows.map(r => [
      r.layout,
      `${r.clusterIP.failed} of ${r.clusterIP.requests}${window(r.windows.clusterIP)}`,
      `${r.loadBalancer.failed} of ${r.loadBalancer.requests}${window(r.windows.loadBalancer)}`,
      ...[r.milestones.nodeUnreadyS, r.milestones.endpointsGoneS, r.milestones.evictedS, r.milestones.replacedS].map(at)
    ])
  ]
  const widths = table[0]!.map((_, i) => Math.max(...table.map(row => row[i]!.length)))
  const pad = (cell: string, i: number): string => i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i]!)
  const line = (row: string[]): string => row.map(pad).join('   ').trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1))
  return [line(table[0]!), rule, ...table.slice(1).map(line)].join('\n') + '\n'
}

/** Why requests failed in one layout, from its statuses and milestones: one line each. */
export function explainLayout (r: LayoutResult): string[] {
  const lines: string[] = []
  const both = [r.clusterIP, r.loadBalancer]
  const timeouts = both.reduce((n, s) => n + s.timeouts + s['5xx'], 0)
  const refused = both.reduce((n, s) => n + s.refused + s.resets, 0)
  if (r.failed === 0) return [`${r.layout}: no request failed`]
  const { endpointsGoneS, replacedS, evictedS } = r.milestones
  if (timeouts > 0) {
    lines.push(`${r.layout}: ${timeouts} timed out or got 502/504: sent to the silent node's Pods (endpoints until ${at(endpointsGoneS)}, ` +
      'and on connections kept alive to them until the client gave up), or queued behind those')
  }
  if (refused > 0) {
    lines.push(`${r.layout}: ${refused} refused or reset: no ready endpoint left until a replacement was Ready (${at(replacedS)}), ` +
      `made once the Pods were evicted (${at(evictedS)})`)
  }
  return lines
}
