/**
 * The propagation delay, from what `check` saw of each old Pod and what the load saw of each
 * replica: per Pod, the time from its deletion to the last request it answered; overall the max and
 * p99; and the `prestop-sleep` to set: the max plus a margin. Pure.
 */
import { SLEEP_ANNOTATION } from '../admission/keys.js'
import { percentile, type JsonReport } from '../load/report.js'
import type { PodTimes } from './observe.js'

/** One old Pod with its last answer (ms since the epoch) and its delay, when the load saw it answer. */
export interface PodDelay extends PodTimes {
  lastAnswerAt?: number
  /** lastAnswerAt − deletedAt, 0 when it answered nothing after its deletion. */
  delayMs?: number
}

/** The overall figures. */
export interface DelaySummary {
  /** Old Pods with a delay. */
  pods: number
  maxMs: number
  p99Ms: number
}

/** The recommendation: a sleep that covers the max with a margin, in whole seconds. */
export interface Recommendation { sleepSeconds: number, marginMs: number, command: string }

/** The margin on top of the longest delay seen: 2 s, or a quarter of the delay when that is more. */
export const MIN_MARGIN_MS = 2000
export const MARGIN_RATIO = 0.25
/** A last answer this close to the Pod's SIGTERM means the pause, not the routing, ended its traffic. */
export const PAUSE_REACHED_MS = 1000

/**
 * Each replica's last answer as ms since the epoch: the load's own times from its start, plus the
 * wall-clock start it reported. Empty when the load did not identify replicas.
 */
export function lastAnswers (report: JsonReport): Map<string, number> {
  const start = report.startedAt
  if (start === undefined || report.replicas === undefined) return new Map()
  return new Map(Object.entries(report.replicas).map(([name, seen]) => [name, start + seen.last]))
}

/** Joins the Pods' moments with the replicas' last answers; Pods in deletion order. */
export function podDelays (pods: Iterable<PodTimes>, answers: ReadonlyMap<string, number>): PodDelay[] {
  return [...pods].sort((a, b) => a.deletedAt - b.deletedAt).map(times => {
    const last = answers.get(times.pod)
    return last === undefined
      ? { ...times }
      : { ...times, lastAnswerAt: last, delayMs: Math.max(0, last - times.deletedAt) }
  })
}

/** Max and nearest-rank p99 of the delays there are; undefined when there is none. */
export function summarizeDelays (delays: readonly PodDelay[]): DelaySummary | undefined {
  const sorted = delays.flatMap(d => d.delayMs === undefined ? [] : [d.delayMs]).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  return { pods: sorted.length, maxMs: sorted.at(-1)!, p99Ms: percentile(sorted, 99) }
}

/** Pods whose last answer came so close to their SIGTERM that their delay may be longer than seen. */
export function pauseReached (delays: readonly PodDelay[]): string[] {
  return delays
    .filter(
      d => d.lastAnswerAt !== undefined && d.sigtermAt !== undefined && d.lastAnswerAt >= d.sigtermAt - PAUSE_REACHED_MS
    )
    .map(d => d.pod)
}

/** The line that sets the sleep for every Pod created in the namespace from then on. */
export function annotateCommand (namespace: string, sleepSeconds: number): string {
  return `kubectl annotate namespace ${namespace} ${SLEEP_ANNOTATION}=${sleepSeconds}s --overwrite`
}

/** The sleep to set: max + max(2 s, 25 % of max), rounded up to the second. */
export function recommend (namespace: string, maxMs: number): Recommendation {
  const marginMs = Math.max(MIN_MARGIN_MS, maxMs * MARGIN_RATIO)
  const sleepSeconds = Math.ceil((maxMs + marginMs) / 1000)
  return { sleepSeconds, marginMs, command: annotateCommand(namespace, sleepSeconds) }
}

/** `5234` → `5.23s`. */
export function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`
}

/** `at` as an offset from `from`, signed: `+1.20s`, or `-0.06s` for a moment before it. */
export function offset (from: number, at: number | undefined): string {
  if (at === undefined) return '-'
  // A container's finishedAt is to the second, so an exit can read as before the deletion seen.
  return at < from ? `-${seconds(from - at)}` : `+${seconds(at - from)}`
}

/** The per-Pod lines: each moment in seconds after (or before) the Pod's deletion. */
export function formatDelays (delays: readonly PodDelay[]): string[] {
  const after = (d: PodDelay, at: number | undefined): string => offset(d.deletedAt, at)
  const rows = [['Pod', 'deleted at', 'endpoint not ready', 'endpoint gone', 'last answer', 'SIGTERM', 'exit', 'delay']]
  for (const d of delays) {
    rows.push([d.pod, new Date(d.deletedAt).toISOString().slice(11, 23), after(d, d.endpointNotReadyAt), after(d, d.endpointRemovedAt), after(d, d.lastAnswerAt), after(d, d.sigtermAt), after(d, d.exitedAt), d.delayMs === undefined ? 'no answer' : seconds(d.delayMs)])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)))
  return rows.map(row => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

/**
 * The warning of a pass/fail check: the pause the old Pods had is not longer than the delay seen
 * (a Pod's last answer then comes from its pause running out, so the real delay may be longer).
 */
export function sleepWarning (delays: readonly PodDelay[], summary: DelaySummary): string | undefined {
  const sleeps = delays.flatMap(d => d.sleepSeconds === undefined ? [] : [d.sleepSeconds])
  const shortest = Math.min(...sleeps)
  const advice = 'run lameduck check --measure to see the whole delay'
  if (sleeps.length < delays.length) return `WARNING: some old Pods had no preStop sleep, so their propagation delay (up to ${seconds(summary.maxMs)} here) may have been cut short: ${advice}`
  if (shortest * 1000 > summary.maxMs + PAUSE_REACHED_MS) return undefined
  return `WARNING: the old Pods' prestop-sleep (${shortest}s) is not longer than the measured propagation delay (${seconds(summary.maxMs)}), which it may cut short: ${advice}`
}
