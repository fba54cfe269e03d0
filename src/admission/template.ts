/**
 * Which kinds are workloads, and where each keeps its Pod template, shared by `preview` and the
 * workload review: both decide on the template exactly as the webhook would on the Pods made from it.
 */

type Json = Record<string, unknown>

/** The path of the Pod template in each kind that has one; a Pod is its own template. */
export const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template']
}

/** The workload kinds reviewed, by API group. */
const WORKLOAD_KINDS: Readonly<Record<string, readonly string[]>> = {
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  batch: ['Job', 'CronJob']
}

/** The kind, when a request's `kind` ({group, version, kind}) is a reviewed workload. */
export function workloadKind (kind: { group?: unknown, kind?: unknown }): string | undefined {
  const kinds = typeof kind.group === 'string' ? WORKLOAD_KINDS[kind.group] : undefined
  return typeof kind.kind === 'string' && kinds?.includes(kind.kind) === true ? kind.kind : undefined
}

/** A workload as the review reads it. */
export interface Workload {
  readonly kind: string
  readonly object: Json
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The value at `path` in `object` (undefined when a step is missing or not an object). */
export function templateAt (object: Json, path: readonly string[]): unknown {
  let current: unknown = object
  for (const key of path) current = isObject(current) ? current[key] : undefined
  return current
}

/** A copy of `object` with `template` at `path` (which must lead through objects); `template` itself for a Pod. */
export function withTemplate (object: Json, path: readonly string[], template: Json): Json {
  if (path.length === 0) return template
  const copy = structuredClone(object)
  const holder = templateAt(copy, path.slice(0, -1)) as Json
  holder[path.at(-1)!] = template
  return copy
}
