/**
 * The kubelet's Warning events about the Pods a run stopped, counted per reason. Teams alert on
 * Warning events, so a shutdown that works but makes the kubelet report, say, a failed preStop hook
 * for every Pod still looks broken: `check` and the demo report these next to the failed requests.
 * Pure: the namespace's events and the stopped Pods' names in, the counts out.
 */

/** What is read of a core/v1 Event (events.k8s.io/v1's `series.count` is core's `count`). */
export interface WarningEventSource {
  type?: string
  reason?: string
  /** How many times it happened, when the recorder folded repeats into one Event. */
  count?: number
  involvedObject?: { kind?: string, name?: string }
}

/** Reasons always listed, 0 when none: what a preStop hook that fails would cause. */
export const WATCHED_REASONS: readonly string[] = ['FailedPreStopHook']

/** Warning events about the Pods named in `pods`, by reason; the watched reasons first, then by name. */
export function countWarningEvents (
  events: readonly WarningEventSource[], pods: ReadonlySet<string>
): Record<string, number> {
  const counts = new Map<string, number>(WATCHED_REASONS.map(reason => [reason, 0]))
  for (const event of events) {
    const about = event.involvedObject
    if (event.type !== 'Warning' || about?.kind !== 'Pod' || !pods.has(about.name ?? '')) continue
    const reason = event.reason ?? 'unknown'
    counts.set(reason, (counts.get(reason) ?? 0) + Math.max(1, event.count ?? 1))
  }
  const others = [...counts.keys()].filter(reason => !WATCHED_REASONS.includes(reason)).sort()
  return Object.fromEntries([...WATCHED_REASONS, ...others].map(reason => [reason, counts.get(reason)!]))
}

/** `FailedPreStopHook 0, Unhealthy 2`: the counts in one line. */
export function formatWarningEvents (counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts).map(([reason, n]) => `${reason} ${n}`).join(', ')
}
