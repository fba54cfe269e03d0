/**
 * The policy: from a Pod's and its namespace's annotations and the server's limits, what to inject.
 * Pure functions over plain values; every decision a user might not expect becomes a warning.
 * The rules are README.md's contract and docs/configuration.md's "The rules".
 */
import {
  ADAPTIVE_MAX_ANNOTATION, ADAPTIVE_QUIET_ANNOTATION, BUDGET_ANNOTATION, CONTAINERS_ANNOTATION, HANDLER_ANNOTATION,
  SLEEP_ANNOTATION
} from './keys.js'
import { formatDuration, parseDuration } from './duration.js'
import type { AutoHandler, Handler, HandlerSetting, PauseDelivery } from './types.js'

/** The server's side of the policy: defaults and limits from the command line, read once. */
export interface PolicyLimits {
  readonly defaultSleep: number
  readonly defaultBudget: number
  readonly maxSleep: number
  readonly maxGrace: number
  /** What `auto` means here: decided at start from the API server's (and kubelets') versions. */
  readonly autoHandler: AutoHandler
  /** The handler when no annotation names one (`--default-handler`; `auto` when unset). */
  readonly defaultHandler?: HandlerSetting
  /** Where the `adaptive` handler's program comes from (`--pause-image`) and how it reaches the Pod. */
  readonly pause?: { readonly image: string, readonly delivery: PauseDelivery }
}

/** `*` selects every regular container; otherwise the named ones. */
export type ContainerSelector = '*' | readonly string[]

/** The resolved settings for one Pod, before looking at its containers. */
export interface PodSettings {
  readonly sleep: number
  readonly budget: number
  readonly containers: ContainerSelector
  readonly handler: Handler
  readonly warnings: readonly string[]
  /** A grace period that must not change (own-grace.ts): the sleep has been fitted under it. */
  readonly keepGrace?: number
  /** With the `adaptive` handler: the longest pause and the quiet period (`sleep` is the shortest). */
  readonly adaptive?: { readonly max: number, readonly quiet: number }
}

/** An adaptive pause's longest when no annotation sets one (an NLB sends for about 2 minutes), and its quiet period. */
export const DEFAULT_ADAPTIVE_MAX = 120
export const DEFAULT_ADAPTIVE_QUIET = 5

/** The longest the pause can last: the sleep, or an adaptive pause's maximum. The grace period covers it. */
export const longestPause = (settings: Pick<PodSettings, 'sleep' | 'adaptive'>): number =>
  settings.adaptive?.max ?? settings.sleep

/** How warnings name the pause: `preStop sleep 15s`, or `adaptive pause of at most 2m`. */
export function describePause (settings: Pick<PodSettings, 'sleep' | 'adaptive'>): string {
  const { adaptive } = settings
  if (adaptive === undefined) return `preStop sleep ${formatDuration(settings.sleep)}`
  return `adaptive pause of at most ${formatDuration(adaptive.max)}`
}

type Annotations = Readonly<Record<string, string>> | undefined

interface Source { readonly where: 'Pod' | 'namespace', readonly value: string }

/** Pod first, then namespace: a Pod annotation overrides the namespace's, for that Pod only. */
function sources (key: string, pod: Annotations, namespace: Annotations): Source[] {
  const found: Source[] = []
  const podValue = pod?.[key]
  const namespaceValue = namespace?.[key]
  if (typeof podValue === 'string') found.push({ where: 'Pod', value: podValue })
  if (typeof namespaceValue === 'string') found.push({ where: 'namespace', value: namespaceValue })
  return found
}

/**
 * The first valid value among the Pod's and the namespace's, else the fallback. Each invalid one
 * is explained, naming what was used instead.
 */
function pick<T> (key: string, found: Source[], parse: (text: string) => T | Error,
  fallback: T, show: (value: T) => string, warnings: string[]): T {
  const rejected: string[] = []
  for (const source of found) {
    const parsed = parse(source.value)
    if (!(parsed instanceof Error)) {
      for (const why of rejected) warnings.push(`${why}; using the ${source.where} value ${show(parsed)}`)
      return parsed
    }
    rejected.push(`${source.where} annotation ${key}: ${parsed.message}`)
  }
  for (const why of rejected) warnings.push(`${why}; using the default ${show(fallback)}`)
  return fallback
}

function parseSleep (text: string): number | Error {
  const seconds = parseDuration(text)
  if (seconds === 0) return new Error(`"${text}" is too short (at least 1s)`)
  return seconds
}

/** `*` or comma-separated container names. */
export function parseContainers (text: string): ContainerSelector | Error {
  if (text.trim() === '*') return '*'
  const names = text.split(',').map(name => name.trim()).filter(name => name !== '')
  if (names.length === 0) return new Error(`"${text}" names no container (use * or a comma-separated list)`)
  return [...new Set(names)]
}

/** The handler names an annotation (or `--default-handler`) may give. */
export const HANDLER_SETTINGS: readonly HandlerSetting[] = ['auto', 'sleep', 'exec', 'adaptive']

function parseHandler (text: string): HandlerSetting | Error {
  return (HANDLER_SETTINGS as readonly string[]).includes(text)
    ? text as HandlerSetting
    : new Error(`"${text}" is not a handler (use auto, sleep, exec or adaptive)`)
}

type Read = <T>(key: string, parse: (text: string) => T | Error, fallback: T, show: (value: T) => string) => T

/** The adaptive pause's maximum (at least the sleep, at most --max-sleep) and quiet period. */
function resolveAdaptive (read: Read, sleep: number, limits: PolicyLimits,
  warnings: string[]): PodSettings['adaptive'] {
  let max = read(ADAPTIVE_MAX_ANNOTATION, parseSleep, Math.min(DEFAULT_ADAPTIVE_MAX, limits.maxSleep), formatDuration)
  const maximum = `adaptive pause maximum ${formatDuration(max)}`
  if (max > limits.maxSleep) {
    warnings.push(`${maximum} is over the server's limit; clamped to ${formatDuration(limits.maxSleep)} (--max-sleep)`)
    max = limits.maxSleep
  }
  if (max < sleep) {
    warnings.push(`${maximum} is shorter than the preStop sleep ${formatDuration(sleep)}, its minimum; raised to it`)
    max = sleep
  }
  const quiet = read(ADAPTIVE_QUIET_ANNOTATION, parseSleep, DEFAULT_ADAPTIVE_QUIET, formatDuration)
  return { max, quiet }
}

const showSelector = (selector: ContainerSelector): string => selector === '*' ? '*' : selector.join(',')

/** Reads the annotations (Pod over namespace), validates them, clamps the sleep (and an adaptive pause's maximum). */
export function resolveSettings (pod: Annotations, namespace: Annotations, limits: PolicyLimits): PodSettings {
  const warnings: string[] = []
  const read = <T>(key: string, parse: (text: string) => T | Error, fallback: T, show: (value: T) => string): T =>
    pick(key, sources(key, pod, namespace), parse, fallback, show, warnings)
  let sleep = read(SLEEP_ANNOTATION, parseSleep, limits.defaultSleep, formatDuration)
  const budget = read(BUDGET_ANNOTATION, parseDuration, limits.defaultBudget, formatDuration)
  const containers = read(CONTAINERS_ANNOTATION, parseContainers, '*' as ContainerSelector, showSelector)
  const setting = read(HANDLER_ANNOTATION, parseHandler, limits.defaultHandler ?? 'auto', String)
  if (sleep > limits.maxSleep) {
    warnings.push(`preStop sleep ${formatDuration(sleep)} is over the server's limit; clamped to ${formatDuration(limits.maxSleep)} (--max-sleep)`)
    sleep = limits.maxSleep
  }
  const handler = setting === 'auto' ? limits.autoHandler : setting
  if (handler !== 'adaptive') return { sleep, budget, containers, handler, warnings }
  return { sleep, budget, containers, handler, warnings, adaptive: resolveAdaptive(read, sleep, limits, warnings) }
}

/** The grace period the API server defaults a Pod to when none is set. */
export const DEFAULT_GRACE = 30

/**
 * `max(current, min(maxGrace, sleep + budget), sleep + 1)`, `current` 30 when unset (docs/configuration.md
 * writes it for users, once): always above `sleep`, since the API server rejects
 * a native sleep that is not shorter than the grace period
 * (https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#hook-handler-execution).
 * The cap applies to what lameduck adds; a longer grace period its owner set is never lowered.
 * Applying it to its own result gives the same result, so re-invocation changes nothing.
 */
export function computeGrace (current: number | undefined, sleep: number, budget: number, maxGrace: number): number {
  const wanted = Math.min(maxGrace, sleep + budget)
  return Math.max(current ?? DEFAULT_GRACE, wanted, sleep + 1)
}

/** How the note on a raised grace period begins (workload.ts finds it by this). */
export const GRACE_RAISED = 'terminationGracePeriodSeconds raised from'

/**
 * Explains a grace period that is not what the user might expect: raised, or capped by the server.
 * `pause` names the pause the grace period covers (describePause), `sleep` its longest.
 */
export function explainGrace (current: number | undefined, grace: number, sleep: number, budget: number,
  maxGrace: number, pause = `preStop sleep ${formatDuration(sleep)}`): string[] {
  const notes: string[] = []
  const sum = `${pause} + shutdown budget ${formatDuration(budget)}`
  if (sleep + budget > maxGrace && grace === maxGrace) {
    notes.push(`${sum} is over the server's limit; terminationGracePeriodSeconds capped at ${maxGrace} (--max-grace)`)
  }
  const before = current ?? DEFAULT_GRACE
  if (grace > before) notes.push(`${GRACE_RAISED} ${before} to ${grace} (${sum})`)
  return notes
}
