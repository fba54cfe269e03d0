/**
 * Per-container CEL, as admission/mutate.ts and admission/prestop.ts decide it: which regular containers are selected,
 * the hook each one gets (taken from buildPreStop itself, so the nginx preset is not restated), and
 * whether a hook already there is lameduck's own (re-invocation) or its owner's (kept).
 * `c` is the comprehension's container.
 */
import { buildPreStop, PRESET_IMAGES } from '../admission/prestop.js'
import { PROXY_IMAGES, PROXY_NAMES } from '../admission/mesh.js'
import { jsonToCel, strList } from './cel.js'
import { v } from './settings.js'

/** A number no real sleep is: buildPreStop is called with it, and it is cut out of the result. */
const MARK = 987654321
const holes = { marker: String(MARK), hole: `string(${v('sleep')})`, markerNumber: MARK, numberHole: v('sleep') }

/** The fields of a preStop handler (core/v1 LifecycleHandler); exactly one may be set. */
const HANDLER_FIELDS = ['exec', 'httpGet', 'tcpSocket', 'sleep']

/** The image's last path part, without digest or tag, lower-cased (as admission/prestop.ts and mesh.ts do). */
function imageName (c: string): string {
  const withoutDigest = `${c}.image.split('@')[0]`
  return `${withoutDigest}.substring(${withoutDigest}.lastIndexOf('/') + 1).split(':')[0].lowerAscii()`
}

/** isNginxImage: the image is one of the nginx preset's. */
export const isNginx = (c: string): string => `(has(${c}.image) && ${imageName(c)} in ${strList([...PRESET_IMAGES])})`

/** isMeshProxy (admission/mesh.ts): a service-mesh proxy by its name or its image. */
export const isMeshProxy = (c: string): string =>
  `(${c}.name in ${strList([...PROXY_NAMES])} || (has(${c}.image) && ${imageName(c)} in ${strList([...PROXY_IMAGES])}))`

/** True when the container is picked: by lameduck.dev/containers, or as a mesh proxy, which always is. */
export const selected = (c: string): string => `(${v('selectAll')} || ${c}.name in ${v('selectNames')} || ${isMeshProxy(c)})`

/** `has(preStop)`, which is false too when there is no lifecycle at all. */
export const hasPreStop = (c: string): string => `(has(${c}.lifecycle) && has(${c}.lifecycle.preStop))`

const SLEEP_HOOK = buildPreStop('sleep', MARK, undefined)
const EXEC_HOOK = buildPreStop('exec', MARK, 'app')
const NGINX_HOOK = buildPreStop('exec', MARK, 'nginx')

/** The hook buildPreStop gives this container, as a CEL value (`dyn`: the two shapes differ in type). */
export function hook (c: string): string {
  const exec = `${isNginx(c)} ? dyn(${jsonToCel(NGINX_HOOK, holes)}) : dyn(${jsonToCel(EXEC_HOOK, holes)})`
  return `(${v('handler')} == 'sleep' ? dyn(${jsonToCel(SLEEP_HOOK, holes)}) : ${exec})`
}

/**
 * CEL that is true when `expr` equals the JSON `sample` (sameJson): every field present and equal.
 * Objects here are typed by the Pod's schema, so `has()` per field; extra fields can only be other
 * handlers, which `onlyField` rules out at the top.
 */
function equals (expr: string, sample: unknown): string {
  if (typeof sample === 'object' && sample !== null && !Array.isArray(sample)) {
    return Object.entries(sample).map(([key, value]) => `has(${expr}.${key}) && ${equals(`${expr}.${key}`, value)}`).join(' && ')
  }
  return `${expr} == ${jsonToCel(sample, holes)}`
}

function isHook (preStop: string, sample: object): string {
  const [field] = Object.keys(sample)
  const others = HANDLER_FIELDS.filter(name => name !== field).map(name => `!has(${preStop}.${name})`)
  return `(${[...others, equals(preStop, sample)].join(' && ')})`
}

/** True when the container's existing preStop is exactly the hook lameduck would give it now. */
export function isOwnHook (c: string): string {
  const preStop = `${c}.lifecycle.preStop`
  const exec = `(${isNginx(c)} ? ${isHook(preStop, NGINX_HOOK)} : ${isHook(preStop, EXEC_HOOK)})`
  return `(${v('handler')} == 'sleep' ? ${isHook(preStop, SLEEP_HOOK)} : ${exec})`
}

/**
 * Selected containers that carry lameduck's hook after the mutation: no hook yet, or ours already (none when fit.ts
 * skips).
 */
export const hookedNames = `${v('skip')} ? [] : object.spec.containers.filter(c, ${selected('c')} && (!${hasPreStop('c')} || ${isOwnHook('c')})).map(c, c.name)`

