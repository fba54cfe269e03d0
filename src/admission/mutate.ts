/**
 * Applies resolved settings to a Pod: the preStop hooks, the grace period and the marker.
 * Works on a copy; the caller diffs the copy against the original (patch.ts) rather than writing patches.
 * The copy is made on write: only the objects on the way to what can change (the Pod, its spec,
 * each regular container, the metadata) are new; everything else (env, volumes, managedFields) is
 * shared with the original and never written. A whole-Pod clone was the largest cost of /mutate.
 */
import { isDeepStrictEqual } from 'node:util'
import { CONTAINERS_ANNOTATION, HANDLER_ANNOTATION, INJECTED_ANNOTATION } from './keys.js'
import { formatDuration } from './duration.js'
import { buildPreStop, isNginxImage, type PreStop } from './prestop.js'
import {
  computeGrace, describePause, explainGrace, longestPause, type PodSettings, type PolicyLimits
} from './policy.js'
import { sidecarNames, type Container, type Pod } from './pod.js'
import { adaptiveCommand, adaptiveMarker, bringPause, DEFAULT_PAUSE_IMAGE } from './adaptive.js'
import { isMeshProxy } from './mesh.js'
import { containersNamed, quoteNames } from './names.js'

/** What a mutation did: the mutated copy (when anything is injected) and why. */
export interface Mutation {
  /** The mutated copy, or undefined when no container gets a hook (the Pod is left alone). */
  readonly pod: Pod | undefined
  /** Containers that carry lameduck's hook after the mutation. */
  readonly containers: readonly string[]
  readonly grace: number | undefined
  readonly warnings: readonly string[]
}

/**
 * Regular containers the selector picks; names that pick none are explained, one warning per kind
 * (no such container, a native sidecar, an init container) naming them all, so that a long list
 * does not crowd out the other warnings. A mesh proxy the list leaves out is picked all the same
 * (mesh.ts), and that is explained too.
 */
function selectContainers (pod: Pod, selector: PodSettings['containers'], warnings: string[]): Container[] {
  const regular = pod.spec.containers
  if (selector === '*') return regular
  const sidecars = sidecarNames(pod.spec)
  const initNames = new Set((pod.spec.initContainers ?? []).map(c => c.name))
  const unpicked = selector.filter(name => !regular.some(c => c.name === name))
  const named = (names: readonly string[], one: string, many: string): void => {
    if (names.length === 0) return
    warnings.push(`${CONTAINERS_ANNOTATION} names ${quoteNames(names, true)}, which ${names.length === 1 ? one : many}`)
  }
  const none = unpicked.filter(name => !initNames.has(name))
  named(none, 'matches no container in this Pod', 'match no container in this Pod')
  const regularOnly = 'only regular containers get a preStop hook'
  const native = unpicked.filter(name => sidecars.has(name))
  named(native, `is a native sidecar; ${regularOnly}`, `are native sidecars; ${regularOnly}`)
  const inits = unpicked.filter(name => initNames.has(name) && !sidecars.has(name))
  named(inits, `is an init container; ${regularOnly}`, `are init containers; ${regularOnly}`)
  const proxies = regular.filter(c => !selector.includes(c.name) && isMeshProxy(c))
  if (proxies.length > 0) {
    warnings.push(`${containersNamed(proxies.map(c => c.name))}: a service-mesh proxy gets the same pause as the app, so it keeps forwarding while the app drains, though ${CONTAINERS_ANNOTATION} leaves it out`)
  }
  return regular.filter(c => selector.includes(c.name) || proxies.includes(c))
}

/** What happened to one container: lameduck's hook added, already there (a second pass), or its own kept. */
type HookResult = 'added' | 'ours' | 'kept'

type Pause = NonNullable<PolicyLimits['pause']>

/** The hook lameduck gives one container of `pod`. */
function hookFor (pod: Pod, container: Container, settings: PodSettings, pause: Pause): PreStop {
  if (settings.handler !== 'adaptive') return buildPreStop(settings.handler, settings.sleep, container.image)
  return { exec: { command: adaptiveCommand(pod.spec, container, settings, pause.delivery) } }
}

/** Sets the hook on one container unless it has one of its own. */
function hookContainer (pod: Pod, container: Container, settings: PodSettings, pause: Pause): HookResult {
  const hook = hookFor(pod, container, settings, pause)
  const existing = container.lifecycle?.preStop
  // Our own hook from an earlier pass (re-invocation): deep equality of plain JSON, no I/O.
  if (existing !== undefined) return isDeepStrictEqual(existing, hook) ? 'ours' : 'kept'
  container.lifecycle = { ...container.lifecycle, preStop: hook }
  return 'added'
}

/** One warning per kind of surprise, naming every container it concerns (names.ts). */
function explainContainers (settings: PodSettings, kept: readonly Container[], added: readonly Container[]): string[] {
  const notes: string[] = []
  if (kept.length > 0) notes.push(`${containersNamed(kept.map(c => c.name))} already ${kept.length === 1 ? 'has a preStop hook' : 'have preStop hooks'}; kept as ${kept.length === 1 ? 'it is' : 'they are'}`)
  const nginx = settings.handler !== 'exec' ? added.filter(c => isNginxImage(c.image)) : []
  if (nginx.length > 0) {
    const runs = nginx.length === 1 ? 'runs' : 'run'
    notes.push(`${containersNamed(nginx.map(c => c.name))} ${runs} nginx: unless its image's STOPSIGNAL is SIGQUIT, SIGTERM cuts requests in flight; set ${HANDLER_ANNOTATION}: exec to drain nginx`)
  }
  return notes
}

/** The marker: what was injected, for audit and idempotency. */
export function formatMarker (settings: PodSettings, grace: number, containers: readonly string[]): string {
  const marker = `sleep=${formatDuration(settings.sleep)} grace=${formatDuration(grace)} handler=${settings.handler}`
  return `${marker} containers=${containers.join(',')}${adaptiveMarker(settings)}`
}

/** The Pod, its spec and its regular containers copied one level deep: the objects the mutation writes to. */
function copyOnWrite (original: Pod): Pod {
  return {
    ...original,
    spec: { ...original.spec, containers: original.spec.containers.map(container => ({ ...container })) }
  }
}

/** Mutates a copy of `original` by `settings` (sharing what it does not change). Never changes `original`. */
export function mutatePod (original: Pod, settings: PodSettings, maxGrace: number,
  pause: Pause = { image: DEFAULT_PAUSE_IMAGE, delivery: 'init-container' }): Mutation {
  const warnings = [...settings.warnings]
  const pod = copyOnWrite(original)
  const results = selectContainers(pod, settings.containers, warnings)
    .map(container => ({ container, result: hookContainer(pod, container, settings, pause) }))
  const having = (...wanted: HookResult[]): Container[] =>
    results.filter(r => wanted.includes(r.result)).map(r => r.container)
  warnings.push(...explainContainers(settings, having('kept'), having('added')))
  const hooked = having('added', 'ours').map(container => container.name)
  if (hooked.length === 0) return { pod: undefined, containers: [], grace: undefined, warnings }
  if (settings.handler === 'adaptive') bringPause(pod, having('added', 'ours'), pause.image, pause.delivery)
  const current = pod.spec.terminationGracePeriodSeconds
  const longest = longestPause(settings)
  const grace = settings.keepGrace ?? computeGrace(current, longest, settings.budget, maxGrace)
  if (settings.keepGrace === undefined) {
    warnings.push(...explainGrace(current, grace, longest, settings.budget, maxGrace, describePause(settings)))
  }
  pod.spec.terminationGracePeriodSeconds = grace
  pod.metadata = { ...pod.metadata }
  pod.metadata.annotations = {
    ...pod.metadata.annotations,
    [INJECTED_ANNOTATION]: formatMarker(settings, grace, hooked)
  }
  return { pod, containers: hooked, grace, warnings }
}
