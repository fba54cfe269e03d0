/**
 * The mutation: the CEL twin of mutatePod (src/admission/mutate.ts). JSONPatch rather than
 * ApplyConfiguration, because `exec.command` is an atomic list, which an apply configuration may
 * not set (https://kubernetes.io/docs/reference/access-authn-authz/mutating-admission-policy/).
 * Each operation is an `add` whose value equals what is already there on a second pass, so
 * re-invocation changes nothing.
 */
import { INJECTED_ANNOTATION } from '../admission/keys.js'
import { DEFAULT_GRACE } from '../admission/policy.js'
import { formatDuration, max, min, str } from './cel.js'
import { hasPreStop, hook, hookedNames, selected } from './containers.js'
import { v, type PolicySettings, type Variable } from './settings.js'

/** `~1` is `/` in a JSON pointer (RFC 6901). */
const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1')

/** The variables after the settings: hooked containers, grace period (computeGrace) and marker (formatMarker). */
export function mutationVariables (settings: PolicySettings): Variable[] {
  return [
    { name: 'hookedNames', expression: hookedNames },
    { name: 'graceCurrent', expression: `object.spec.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE})` },
    { name: 'graceWanted', expression: min(`(${v('sleep')} + ${v('budget')})`, String(settings.maxGrace)) },
    { name: 'graceFloor', expression: max(v('graceWanted'), `(${v('sleep')} + 1)`) },
    // A bare Pod's own grace period, when the sleep was fitted under it (fit.ts), is kept.
    { name: 'grace', expression: `${v('fitted')} ? ${v('graceGiven')} : ${max(v('graceCurrent'), v('graceFloor'))}` },
    {
      name: 'marker',
      expression: `'sleep=' + ${formatDuration(v('sleep'))} + ' grace=' + ${formatDuration(v('grace'))} + ' handler=' + ${v('handler')} + ' containers=' + ${v('hookedNames')}.join(',')`
    }
  ]
}

const patch = (path: string, value: string): string => `JSONPatch{op: 'add', path: ${path}, value: ${value}}`

/** The JSONPatch expression: nothing when no container gets lameduck's hook, as mutatePod leaves such a Pod alone. */
export function mutationExpression (): string {
  const container = `'/spec/containers/' + string(i) + '/lifecycle'`
  const hooks = `object.spec.containers.transformList(i, c, ${selected('c')} && !${hasPreStop('c')}, ` +
    `has(c.lifecycle) ? ${patch(`${container} + '/preStop'`, hook('c'))} : ${patch(container, `{'preStop': ${hook('c')}}`)})`
  const marker = `has(object.metadata.annotations) ? ${patch(str(`/metadata/annotations/${escapePointer(INJECTED_ANNOTATION)}`), v('marker'))}` +
    ` : ${patch("'/metadata/annotations'", `{${str(INJECTED_ANNOTATION)}: ${v('marker')}}`)}`
  return `size(${v('hookedNames')}) == 0 ? [] : ${hooks} + [${patch("'/spec/terminationGracePeriodSeconds'", v('grace'))}, ${marker}]`
}
