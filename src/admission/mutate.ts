/**
 * Applies resolved settings to a Pod: the preStop hooks, the grace period and the marker.
 * Works on a copy; the caller diffs the copy against the original (STYLE.md: diff, don't hand-write).
 * The copy is made on write: only the objects on the way to what can change (the Pod, its spec,
 * each regular container, the metadata) are new; everything else (env, volumes, managedFields) is
 * shared with the original and never written. A whole-Pod clone was the largest cost of /mutate.
 */
import { isDeepStrictEqual } from 'node:util'
import { CONTAINERS_ANNOTATION, HANDLER_ANNOTATION, INJECTED_ANNOTATION } from './keys.js'
import { formatDuration } from './duration.js'
import { buildPreStop, isNginxImage } from './prestop.js'
import { computeGrace, explainGrace, type PodSettings } from './policy.js'
import { sidecarNames, type Container, type Pod } from './pod.js'

/** What a mutation did: the mutated copy (when anything is injected) and why. */
export interface Mutation {
  /** The mutated copy, or undefined when no container gets a hook (the Pod is left alone). */
  readonly pod: Pod | undefined
  /** Containers that carry lameduck's hook after the mutation. */
  readonly containers: readonly string[]
  readonly grace: number | undefined
  readonly warnings: readonly string[]
}

/** Regular containers the selector picks; names that match none of them are explained. */
function selectContainers (pod: Pod, selector: PodSettings['containers'], warnings: string[]): Container[] {
  const regular = pod.spec.containers
  if (selector === '*') return regular
  const sidecars = sidecarNames(pod.spec)
  const initNames = new Set((pod.spec.initContainers ?? []).map(c => c.name))
  for (const name of selector) {
    if (regular.some(c => c.name === name)) continue
    const what = sidecars.has(name) ? 'a native sidecar' : initNames.has(name) ? 'an init container' : undefined
    warnings.push(what === undefined
      ? `${CONTAINERS_ANNOTATION} names "${name}", which matches no container in this Pod`
      : `${CONTAINERS_ANNOTATION} names "${name}", which is ${what}; only regular containers get a preStop hook`)
  }
  return regular.filter(c => selector.includes(c.name))
}

/** Sets the hook on one container unless it has one of its own; true when it carries ours after. */
function hookContainer (container: Container, settings: PodSettings, warnings: string[]): boolean {
  const hook = buildPreStop(settings.handler, settings.sleep, container.image)
  const existing = container.lifecycle?.preStop
  if (existing !== undefined) {
    // Our own hook from an earlier pass (re-invocation): deep equality of plain JSON, no I/O.
    if (isDeepStrictEqual(existing, hook)) return true
    warnings.push(`container "${container.name}" already has a preStop hook; kept as it is`)
    return false
  }
  container.lifecycle = { ...container.lifecycle, preStop: hook }
  if (settings.handler === 'sleep' && isNginxImage(container.image)) {
    warnings.push(`container "${container.name}" runs nginx, which treats SIGTERM as a fast shutdown; set ${HANDLER_ANNOTATION}: exec for a graceful "nginx -s quit"`)
  }
  return true
}

/** The marker: what was injected, for audit and idempotency. */
export function formatMarker (settings: PodSettings, grace: number, containers: readonly string[]): string {
  return `sleep=${formatDuration(settings.sleep)} grace=${formatDuration(grace)} handler=${settings.handler} containers=${containers.join(',')}`
}

/** The Pod, its spec and its regular containers copied one level deep: the objects the mutation writes to. */
function copyOnWrite (original: Pod): Pod {
  return { ...original, spec: { ...original.spec, containers: original.spec.containers.map(container => ({ ...container })) } }
}

/** Mutates a copy of `original` by `settings` (sharing what it does not change). Never changes `original`. */
export function mutatePod (original: Pod, settings: PodSettings, maxGrace: number): Mutation {
  const warnings = [...settings.warnings]
  const pod = copyOnWrite(original)
  const hooked = selectContainers(pod, settings.containers, warnings)
    .filter(container => hookContainer(container, settings, warnings))
    .map(container => container.name)
  if (hooked.length === 0) return { pod: undefined, containers: [], grace: undefined, warnings }
  const current = pod.spec.terminationGracePeriodSeconds
  const grace = computeGrace(current, settings.sleep, settings.budget, maxGrace)
  warnings.push(...explainGrace(current, grace, settings.sleep, settings.budget, maxGrace))
  pod.spec.terminationGracePeriodSeconds = grace
  pod.metadata = { ...pod.metadata }
  pod.metadata.annotations = { ...pod.metadata.annotations, [INJECTED_ANNOTATION]: formatMarker(settings, grace, hooked) }
  return { pod, containers: hooked, grace, warnings }
}
