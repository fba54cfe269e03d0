/**
 * Advice on how a serving workload survives losing a node, voluntarily (a drain, an autoscaler's
 * consolidation, a node upgrade) or not (an instance terminated, a zone lost): what the demo's
 * drain and node-loss scenarios measure. lameduck's pause covers a Pod that is deleted; it cannot
 * cover the only replica while its replacement starts, nor replicas that share the node that goes.
 *
 * Not advised: a missing PodDisruptionBudget. The webhook sees the workload alone; knowing whether a
 * budget selects it takes a cluster-wide cache of budgets (RBAC to list and watch them in every
 * namespace, memory for each), and the answer would be wrong on the most common first install: a
 * kustomize build applies a PodDisruptionBudget after the Deployment it protects, so the Deployment
 * would be warned about a budget that arrives a moment later (docs/rules.md, "Advice").
 */
import type { Pod } from './pod.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The topology keys that put replicas on different nodes: a node's own, or a zone's (a zone holds other nodes). */
const NODE_KEYS = new Set(['kubernetes.io/hostname', 'topology.kubernetes.io/zone'])

/** The workload's `spec.replicas` as written; undefined when absent (an autoscaler may own it) or not a number. */
function writtenReplicas (object: Json): number | undefined {
  const spec = isObject(object.spec) ? object.spec : {}
  return typeof spec.replicas === 'number' ? spec.replicas : undefined
}

/** Whether the template spreads its Pods over nodes: a topology spread, or pod anti-affinity, on a node or zone key. */
function spreadOverNodes (pod: Pod): boolean {
  const keyed = (term: unknown): boolean => isObject(term) && NODE_KEYS.has(term.topologyKey as string)
  const constraints = pod.spec.topologySpreadConstraints
  if (Array.isArray(constraints) && constraints.some(keyed)) return true
  const affinity = isObject(pod.spec.affinity) ? pod.spec.affinity : {}
  const anti = isObject(affinity.podAntiAffinity) ? affinity.podAntiAffinity : {}
  const required = anti.requiredDuringSchedulingIgnoredDuringExecution
  const preferred = anti.preferredDuringSchedulingIgnoredDuringExecution
  return (Array.isArray(required) && required.some(keyed)) ||
    (Array.isArray(preferred) && preferred.some(weighted => isObject(weighted) && keyed(weighted.podAffinityTerm)))
}

/**
 * Advice on a Deployment, StatefulSet or ReplicaSet (a DaemonSet has one Pod per node by design): a
 * single replica, written as such (an unset count is left alone: an autoscaler may own it), and
 * several replicas nothing spreads over nodes.
 */
export function adviseAvailability (kind: string, object: Json, pod: Pod): string[] {
  if (kind === 'DaemonSet') return []
  const replicas = writtenReplicas(object)
  if (replicas === 1) {
    return ['1 replica: a drain, an eviction or a lost node leaves nothing to serve until a new Pod is Ready, and no pause covers that; run 2 or more']
  }
  if (replicas !== undefined && replicas > 1 && !spreadOverNodes(pod)) {
    return [`${replicas} replicas, not spread over nodes (no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname): draining or losing one node may stop them all at once`]
  }
  return []
}
