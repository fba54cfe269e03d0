/**
 * The policy's `variables` that resolve a Pod's settings, as resolveSettings in
 * src/admission/policy.ts does: each annotation read from the Pod, then its namespace, the first
 * valid value winning, else the server default; the sleep clamped to --max-sleep; `auto` resolved.
 * Shared by the MutatingAdmissionPolicy (what to inject) and the ValidatingAdmissionPolicy (what to
 * warn about), so both read the annotations the same way.
 */
import { BUDGET_ANNOTATION, CONTAINERS_ANNOTATION, HANDLER_ANNOTATION, SLEEP_ANNOTATION } from '../admission/keys.js'
import type { AutoHandler } from '../admission/types.js'
import { min, str, strList, trim } from './cel.js'
import { durationSeconds } from './duration.js'

/** A policy variable: a name and the CEL that computes it, visible to later ones as `variables.<name>`. */
export interface Variable {
  readonly name: string
  readonly expression: string
}

/** A validation as the API accepts it: it warns when `expression` is false. */
export interface Validation {
  readonly expression: string
  readonly messageExpression: string
}

/** The server's side, as `lameduck serve` takes it from its flags; `handler` is what `auto` means. */
export interface PolicySettings {
  readonly defaultSleep: number
  readonly defaultBudget: number
  readonly maxSleep: number
  readonly maxGrace: number
  readonly handler: AutoHandler
  readonly excludeNamespaces: readonly string[]
}

/** `variables.<name>` */
export const v = (name: string): string => `variables.${name}`

/** Where a value comes from, in the order the webhook consults them. */
export const SOURCES = [
  { name: 'pod', where: 'Pod', annotations: 'object' },
  { name: 'namespace', where: 'namespace', annotations: 'namespaceObject' }
] as const

export type SourceName = typeof SOURCES[number]['name']

/** The CEL variable names for an annotation read from one source: `podSleep`, `namespaceSleepText`. */
export const named = (source: SourceName, what: string): string => `${source}${what}`

/** What `variables.<source>Sleep` (and Budget) hold when the annotation is absent. */
export const ABSENT = -2

/** What the annotation may say; `adaptive` is left to the webhook (fit.ts). */
export const HANDLERS = ['auto', 'sleep', 'exec', 'adaptive'] as const

/** The settings keys and how each is read, for the warnings' messages too. */
export const ANNOTATIONS = {
  Sleep: SLEEP_ANNOTATION,
  Budget: BUDGET_ANNOTATION,
  Containers: CONTAINERS_ANNOTATION,
  Handler: HANDLER_ANNOTATION
} as const

function sourceVariables (source: typeof SOURCES[number]): Variable[] {
  const annotations = v(named(source.name, 'Annotations'))
  const has = (key: string): string => `${str(key)} in ${annotations}`
  const raw = (key: string): string => `string(${annotations}[?${str(key)}].orValue(''))`
  const text = (what: keyof typeof ANNOTATIONS): Variable => ({ name: named(source.name, `${what}Text`), expression: trim(raw(ANNOTATIONS[what])) })
  const seconds = (what: 'Sleep' | 'Budget'): Variable => ({
    name: named(source.name, what),
    expression: `${has(ANNOTATIONS[what])} ? (${durationSeconds(v(named(source.name, `${what}Text`)))}) : ${ABSENT}`
  })
  const containersText = v(named(source.name, 'ContainersText'))
  const names = v(named(source.name, 'ContainerNames'))
  return [
    { name: named(source.name, 'Annotations'), expression: `${source.annotations}.metadata.?annotations.orValue({})` },
    text('Sleep'), seconds('Sleep'),
    text('Budget'), seconds('Budget'),
    text('Containers'),
    // parseContainers: `*`, or the comma-separated names, trimmed, empty ones dropped.
    { name: named(source.name, 'ContainerNames'), expression: `${containersText}.split(',').map(n, ${trim('n')}).filter(n, n != '')` },
    { name: named(source.name, 'ContainersValid'), expression: `${has(CONTAINERS_ANNOTATION)} && (${containersText} == '*' || size(${names}) > 0)` },
    { name: named(source.name, 'Handler'), expression: raw(HANDLER_ANNOTATION) }
  ]
}

/** The first valid of the Pod's and the namespace's values, else `fallback`. */
function firstValid (
  valid: (source: SourceName) => string,
  value: (source: SourceName) => string,
  fallback: string
): string {
  return `${valid('pod')} ? ${value('pod')} : ${valid('namespace')} ? ${value('namespace')} : ${fallback}`
}

/**
 * Every variable the settings need, in dependency order. Ends with `sleepResolved`, `budget`,
 * `selectAll`, `selectNames`, `handlerResolved`: fit.ts makes `sleep` and `handler` of them.
 */
export function settingsVariables (settings: PolicySettings): Variable[] {
  const seconds = (what: string, least: number) => (source: SourceName) => `${v(named(source, what))} >= ${least}`
  const value = (what: string) => (source: SourceName) => v(named(source, what))
  const handlerValid = (source: SourceName): string => `${v(named(source, 'Handler'))} in ${strList(HANDLERS)}`
  return [
    ...SOURCES.flatMap(sourceVariables),
    // parseSleep: a sleep of 0 is invalid (too short); a budget of 0 is fine.
    { name: 'sleepWanted', expression: firstValid(seconds('Sleep', 1), value('Sleep'), String(settings.defaultSleep)) },
    { name: 'sleepResolved', expression: min(v('sleepWanted'), String(settings.maxSleep)) },
    { name: 'budget', expression: firstValid(seconds('Budget', 0), value('Budget'), String(settings.defaultBudget)) },
    { name: 'selectAll', expression: firstValid(value('ContainersValid'), source => `${v(named(source, 'ContainersText'))} == '*'`, 'true') },
    { name: 'selectNames', expression: firstValid(value('ContainersValid'), value('ContainerNames'), '[]') },
    { name: 'handlerSetting', expression: firstValid(handlerValid, value('Handler'), "'auto'") },
    { name: 'handlerResolved', expression: `${v('handlerSetting')} == 'auto' ? ${str(settings.handler)} : ${v('handlerSetting')}` }
  ]
}
