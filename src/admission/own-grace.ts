/**
 * A bare Pod (one no controller owns) is created from a manifest that someone, or a GitOps tool,
 * applies again. If that manifest sets `terminationGracePeriodSeconds` and lameduck raised it, the
 * next `kubectl apply` (client-side or `--server-side`) sends the manifest's value back, and the API
 * server refuses it: a Pod's grace period cannot change after creation, and a native sleep must stay
 * below it. So a grace period a bare Pod's manifest sets is kept as it is, and the sleep fitted under it.
 * A controller's Pods are never re-applied; theirs is raised as usual.
 */
import { DEFAULT_GRACE, longestPause, type PodSettings } from './policy.js'
import { formatDuration } from './duration.js'
import type { Pod } from './pod.js'

/** Written by `kubectl apply` (client-side): the manifest as applied. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

interface OwnerReference { controller?: boolean }
interface ManagedFields { operation?: string, fieldsV1?: { 'f:spec'?: Record<string, unknown> } }

const hasController = (pod: Pod): boolean =>
  Array.isArray(pod.metadata?.ownerReferences) &&
  (pod.metadata.ownerReferences as OwnerReference[]).some(owner => owner?.controller === true)

function lastAppliedSetsGrace (pod: Pod): boolean {
  const text = pod.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]
  if (text === undefined) return false
  try {
    return (
      (JSON.parse(text) as { spec?: { terminationGracePeriodSeconds?: unknown } } | null)?.spec
        ?.terminationGracePeriodSeconds !== undefined
    )
  } catch {
    return false
  }
}

/** Server-side apply: an `Apply` entry of managedFields owns the field only if the applied manifest set it. */
function appliedSetsGrace (pod: Pod): boolean {
  const entries = pod.metadata?.managedFields
  return Array.isArray(entries) && (entries as ManagedFields[]).some(entry =>
    entry?.operation === 'Apply' && entry.fieldsV1?.['f:spec']?.['f:terminationGracePeriodSeconds'] !== undefined)
}

/**
 * The grace period to keep: a bare Pod's, when its manifest set it. In the webhook the API server
 * has already defaulted it to 30, so 30 counts as set only when the applied manifest says so;
 * `asWritten` (preview, which reads the manifest itself) counts any value present.
 */
export function ownGrace (pod: Pod, asWritten: boolean): number | undefined {
  const grace = pod.spec.terminationGracePeriodSeconds
  if (grace === undefined || hasController(pod)) return undefined
  const set = asWritten || grace !== DEFAULT_GRACE || lastAppliedSetsGrace(pod) || appliedSetsGrace(pod)
  return set ? grace : undefined
}

/**
 * Settings with the sleep (an adaptive pause's maximum) fitted under a kept grace period, or an
 * Error when no pause fits (grace under 2 s).
 */
export function fitUnderGrace (settings: PodSettings, grace: number): PodSettings | Error {
  const why = `terminationGracePeriodSeconds ${grace} is set by this Pod's own manifest and no controller owns the Pod, so it is kept (a re-apply must find it unchanged)`
  if (grace < 2) return new Error(`${why}; no preStop pause fits under it: Pod left unchanged`)
  const longest = longestPause(settings)
  // With no budget, sleep + budget may equal the grace period: the sleep must still be shorter.
  if (longest + settings.budget <= grace && longest < grace) return settings
  const fitted = Math.min(longest, grace - 1)
  const name = settings.adaptive === undefined ? 'preStop sleep' : 'adaptive pause maximum'
  const what = fitted < longest
    ? `${name} shortened from ${formatDuration(longest)} to ${formatDuration(fitted)}`
    : `${name} ${formatDuration(fitted)}`
  const left = `leaving ${formatDuration(grace - fitted)} of the ${formatDuration(settings.budget)} shutdown budget`
  const warnings = [...settings.warnings, `${why}; ${what}, ${left}`]
  const adaptive = settings.adaptive === undefined ? {} : { adaptive: { ...settings.adaptive, max: fitted } }
  return { ...settings, ...adaptive, sleep: Math.min(settings.sleep, fitted), keepGrace: grace, warnings }
}
