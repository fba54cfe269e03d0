/**
 * Advice on a workload whose Pods lameduck hooks: what else makes a rollout drop requests, or
 * makes the manifest say something other than what runs. Warnings on the workload only (never on
 * its Pods, whose warnings nobody reads), and off with `--no-advice`.
 */
import { adviseAvailability } from './availability.js'
import { isMeshProxy } from './mesh.js'
import { containersNamed } from './names.js'
import type { Pod } from './pod.js'
import { DEFAULT_GRACE } from './policy.js'
import type { Workload } from './template.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Kinds whose Pods serve traffic through a rollout; Jobs' Pods are left alone anyway. */
const SERVING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'])

function readiness (pod: Pod): string[] {
  const missing = pod.spec.containers.filter(
    c => Array.isArray(c.ports) && c.ports.length > 0 && c.readinessProbe === undefined && !isMeshProxy(c)
  )
  if (missing.length === 0) return []
  return [`${containersNamed(missing.map(c => c.name))} ${missing.length === 1 ? 'has' : 'have'} ports but no readinessProbe: a new Pod gets traffic before it is ready, so a rollout drops requests even with lameduck`]
}

/**
 * maxUnavailable as a number of Pods: an integer, or a percentage of replicas rounded down, as the
 * Deployment controller does (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-unavailable).
 */
function podsOf (value: unknown, replicas: number, fallback: number): number {
  if (typeof value === 'number') return value
  const percent = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null
  return percent === null ? fallback : Math.floor(replicas * Number(percent[1]) / 100)
}

function rollout (object: Json): string[] {
  const spec = isObject(object.spec) ? object.spec : {}
  const strategy = isObject(spec.strategy) ? spec.strategy : {}
  if (strategy.type !== undefined && strategy.type !== 'RollingUpdate') return []
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
  const rolling = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {}
  const unavailable = podsOf(rolling.maxUnavailable ?? '25%', replicas, 0)
  if (replicas === 0 || unavailable < replicas) return []
  return [`maxUnavailable ${String(rolling.maxUnavailable)} lets a rollout take down all ${replicas} replica${replicas === 1 ? '' : 's'} at once, so no Pod is left to serve; use maxUnavailable 0 with maxSurge 1 or more`]
}

/** The template sets a grace period below what its Pods get (30, the API server's default, does not count). */
export function templateGraceRaised (pod: Pod, decided: number): boolean {
  const own = pod.spec.terminationGracePeriodSeconds
  return own !== undefined && own !== DEFAULT_GRACE && own < decided
}

/** A grace period the template sets below what its Pods get: write what runs in the manifest. */
function grace (pod: Pod, decided: number): string[] {
  const own = pod.spec.terminationGracePeriodSeconds
  if (!templateGraceRaised(pod, decided)) return []
  return [`terminationGracePeriodSeconds ${own} in the Pod template is raised to ${decided} in every Pod; write ${decided} in the manifest, so that it says what runs`]
}

function meshProxies (pod: Pod): string[] {
  const proxies = pod.spec.containers.filter(isMeshProxy)
  if (proxies.length === 0) return []
  return [`${containersNamed(proxies.map(c => c.name))}: a service-mesh proxy as a regular container gets the same pause as the app, but SIGTERM with it after that; run it as a native sidecar (an init container with restartPolicy: Always) so it outlives the app`]
}

/** Every piece of advice for a workload whose Pods get `decidedGrace`. */
export function adviseWorkload (workload: Workload, pod: Pod, decidedGrace: number): string[] {
  if (!SERVING.has(workload.kind)) return []
  return [
    ...readiness(pod),
    ...adviseAvailability(workload.kind, workload.object, pod),
    ...(workload.kind === 'Deployment' ? rollout(workload.object) : []),
    ...grace(pod, decidedGrace),
    ...meshProxies(pod)
  ]
}
