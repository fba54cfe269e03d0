/**
 * The parts of a Pod lameduck reads and writes, as plain JSON. Everything else passes through
 * untouched (the index signatures), so nothing of the user's object is lost.
 */

/** A container as it appears in `spec.containers` or `spec.initContainers`. */
export interface Container {
  name: string
  image?: string
  restartPolicy?: string
  lifecycle?: { preStop?: unknown, [key: string]: unknown }
  [key: string]: unknown
}

/** A Pod's spec, or a workload's Pod template spec. */
export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  restartPolicy?: string
  terminationGracePeriodSeconds?: number
  [key: string]: unknown
}

/** Object metadata: only labels and annotations matter to the policy. */
export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [key: string]: unknown
}

/** A Pod, or a Pod template (`metadata` + `spec`). */
export interface Pod {
  metadata?: ObjectMeta
  spec: PodSpec
  [key: string]: unknown
}

/** Names of the init containers that are native sidecars (`restartPolicy: Always`). */
export function sidecarNames (spec: PodSpec): Set<string> {
  return new Set((spec.initContainers ?? []).filter(c => c.restartPolicy === 'Always').map(c => c.name))
}
