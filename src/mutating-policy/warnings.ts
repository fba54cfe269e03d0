/**
 * The warnings, as a ValidatingAdmissionPolicy's validations in Warn mode: a mutating policy cannot
 * return warnings. Each validation fails (and so warns) when the webhook would have given that
 * warning, with the webhook's text, one warning per validation. Validation runs after mutation, so
 * these read the mutated Pod: what was injected is known, what was there before is not. Hence the
 * one intended difference (docs/policy.md): a raised grace period is told as "set to G", and the
 * nginx advice is given for every nginx container with lameduck's sleep, not only those just hooked.
 */
import { formatDuration as showSeconds } from '../admission/duration.js'
import { CONTAINERS_ANNOTATION, HANDLER_ANNOTATION } from '../admission/keys.js'
import { DEFAULT_GRACE } from '../admission/policy.js'
import { formatDuration, str, strList, text } from './cel.js'
import { hasPreStop, isMeshProxy, isNginx, isOwnHook, selected } from './containers.js'
import { fitValidations } from './fit.js'
import { agree, containersNamed, quoteNames } from './names.js'
import { TOO_LONG } from './duration.js'
import { ANNOTATIONS, HANDLERS, named, SOURCES, v, type PolicySettings, type SourceName, type Validation, type Variable } from './settings.js'

type Key = keyof typeof ANNOTATIONS

const REGULAR_ONLY = 'only regular containers get a preStop hook'

const where = (source: SourceName): string => SOURCES.find(s => s.name === source)!.where

/** dedupe: parseContainers keeps each name once (`new Set`). */
const unique = (list: string): string => `${list}.transformList(i, n, !${list}.exists(j, m, j < i && m == n), n)`

function isValid (source: SourceName, key: Key): string {
  const value = v(named(source, key))
  switch (key) {
    case 'Sleep': return `${value} >= 1`
    case 'Budget': return `${value} >= 0`
    case 'Containers': return v(named(source, 'ContainersValid'))
    case 'Handler': return `${value} in ${strList(HANDLERS)}`
  }
}

function show (source: SourceName, key: Key): string {
  switch (key) {
    case 'Sleep': case 'Budget': return formatDuration(v(named(source, key)))
    case 'Containers': return `(${v(named(source, 'ContainersText'))} == '*' ? '*' : ${unique(v(named(source, 'ContainerNames')))}.join(','))`
    case 'Handler': return v(named(source, 'Handler'))
  }
}

function showDefault (key: Key, settings: PolicySettings): string {
  switch (key) {
    case 'Sleep': return showSeconds(settings.defaultSleep)
    case 'Budget': return showSeconds(settings.defaultBudget)
    case 'Containers': return '*'
    case 'Handler': return 'auto'
  }
}

/** The parse error's message, as parseDuration, parseSleep, parseContainers and parseHandler word it. */
function reason (source: SourceName, key: Key): string {
  const raw = `string(${v(named(source, 'Annotations'))}[${str(ANNOTATIONS[key])}])`
  const notADuration = text`"${raw}" is not a duration (use seconds like 15 or 15s, or 1m30s)`
  switch (key) {
    case 'Sleep': case 'Budget': {
      const seconds = v(named(source, key))
      const tooShort = key === 'Sleep' ? `${seconds} == 0 ? ${text`"${raw}" is too short (at least 1s)`} : ` : ''
      return `(${seconds} == ${TOO_LONG} ? ${text`"${raw}" is too long a duration`} : ${tooShort}${notADuration})`
    }
    case 'Containers': return text`"${raw}" names no container (use * or a comma-separated list)`
    case 'Handler': return text`"${raw}" is not a handler (use auto, sleep, exec or adaptive)`
  }
}

/** pick() in policy.ts: an invalid value is explained, with what was used instead. */
function annotationWarning (source: SourceName, key: Key, settings: PolicySettings): Validation {
  const present = `${str(ANNOTATIONS[key])} in ${v(named(source, 'Annotations'))}`
  const consulted = source === 'pod' ? 'true' : `!(${str(ANNOTATIONS[key])} in ${v('podAnnotations')}) || !(${isValid('pod', key)})`
  const byDefault = text`the default ${str(showDefault(key, settings))}`
  const instead = source === 'pod' ? `(${isValid('namespace', key)} ? ${text`the namespace value ${show('namespace', key)}`} : ${byDefault})` : byDefault
  const message = text`${str(where(source))} annotation ${str(ANNOTATIONS[key])}: ${reason(source, key)}; using ${instead}`
  return { expression: `!(${present} && !(${isValid(source, key)}) && (${consulted}))`, messageExpression: message }
}

/** One warning naming every container of `list` (names.ts), then `rest`, when the list is not empty. */
function aboutContainers (list: string, rest: string): Validation {
  return { expression: `size(${list}) == 0`, messageExpression: `${containersNamed(list)} + ${rest}` }
}

/** One warning naming every name of `list` that lameduck.dev/containers gives, then why it picks nothing. */
function aboutNames (list: string, one: string, many: string): Validation {
  const names = `${str(`${CONTAINERS_ANNOTATION} names `)} + ${quoteNames(list)}`
  const message = `${names} + ', which ' + ${agree(list, one, many)}`
  return { expression: `size(${list}) == 0`, messageExpression: message }
}

/** Variables the warnings need besides the settings and the mutation's. */
export function warningVariables (): Variable[] {
  const inits = 'object.spec.?initContainers.orValue([])'
  const sidecar = (name: string) => `${inits}.exists(i, i.name == ${name} && i.?restartPolicy.orValue('') == 'Always')`
  const init = (name: string) => `${inits}.exists(i, i.name == ${name})`
  // The names lameduck.dev/containers gives that pick no regular container, by kind (as
  // src/admission/mutate.ts groups them).
  const unpicked = (kind: string): string => `${v('selectAll')} || ${v('skip')} ? [] : ` +
    `${unique(v('selectNames'))}.filter(n, !object.spec.containers.exists(c, c.name == n) && ${kind})`
  return [
    { name: 'unmatchedNames', expression: unpicked(`!${init('n')}`) },
    { name: 'sidecarNames', expression: unpicked(sidecar('n')) },
    { name: 'initNames', expression: unpicked(`${init('n')} && !${sidecar('n')}`) },
    { name: 'proxiesAdded', expression: `${v('selectAll')} || ${v('skip')} ? [] : object.spec.containers.filter(c, !(c.name in ${v('selectNames')}) && ${isMeshProxy('c')}).map(c, c.name)` },
    { name: 'keptHooks', expression: `${v('skip')} ? [] : object.spec.containers.filter(c, ${selected('c')} && ${hasPreStop('c')} && !${isOwnHook('c')}).map(c, c.name)` },
    { name: 'nginxSleeps', expression: `${v('handler')} != 'sleep' || ${v('skip')} ? [] : object.spec.containers.filter(c, ${selected('c')} && ${isNginx('c')} && ${hasPreStop('c')} && ${isOwnHook('c')}).map(c, c.name)` }
  ]
}

/** The validations, in the order the webhook gives its warnings. */
export function warningValidations (settings: PolicySettings): Validation[] {
  const keys = Object.keys(ANNOTATIONS) as Key[]
  const hooked = `size(${v('hookedNames')}) > 0`
  const sleepAndBudget = text`preStop sleep ${formatDuration(v('sleep'))} + shutdown budget ${formatDuration(v('budget'))}`
  return [
    ...keys.flatMap(key => SOURCES.map(source => annotationWarning(source.name, key, settings))),
    {
      expression: `${v('sleepWanted')} <= ${settings.maxSleep}`,
      messageExpression: text`preStop sleep ${formatDuration(v('sleepWanted'))} is over the server's limit; clamped to ${str(showSeconds(settings.maxSleep))} (--max-sleep)`
    },
    ...fitValidations(),
    aboutNames(v('unmatchedNames'), 'matches no container in this Pod', 'match no container in this Pod'),
    aboutNames(v('sidecarNames'), `is a native sidecar; ${REGULAR_ONLY}`, `are native sidecars; ${REGULAR_ONLY}`),
    aboutNames(v('initNames'), `is an init container; ${REGULAR_ONLY}`, `are init containers; ${REGULAR_ONLY}`),
    aboutContainers(v('proxiesAdded'), text`: a service-mesh proxy gets the same pause as the app, so it keeps forwarding while the app drains, though ${str(CONTAINERS_ANNOTATION)} leaves it out`),
    aboutContainers(v('keptHooks'), text` already ${agree(v('keptHooks'), 'has a preStop hook', 'have preStop hooks')}; kept as ${agree(v('keptHooks'), 'it is', 'they are')}`),
    aboutContainers(v('nginxSleeps'), text` ${agree(v('nginxSleeps'), 'runs', 'run')} nginx: unless its image's STOPSIGNAL is SIGQUIT, SIGTERM cuts requests in flight; set ${str(HANDLER_ANNOTATION)}: exec to drain nginx`),
    {
      expression: `!(${hooked} && !${v('fittedTold')} && ${v('sleep')} + ${v('budget')} > ${settings.maxGrace} && ${v('grace')} == ${settings.maxGrace})`,
      messageExpression: text`${sleepAndBudget} is over the server's limit; terminationGracePeriodSeconds capped at ${str(String(settings.maxGrace))} (--max-grace)`
    },
    {
      expression: `!(${hooked} && !${v('fittedTold')} && ${v('grace')} == ${v('graceFloor')} && ${v('grace')} != ${DEFAULT_GRACE})`,
      messageExpression: text`terminationGracePeriodSeconds set to ${`string(${v('grace')})`} (${sleepAndBudget})`
    }
  ]
}

