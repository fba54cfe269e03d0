/**
 * Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) are reviewed without a
 * patch: their Pods are made by a controller, so the warnings lameduck gives those Pods reach the
 * controller, never the person who ran `kubectl apply`. Answering the workload's own CREATE or
 * UPDATE with the warnings its Pods would get (the same decision as `preview`) puts them in front
 * of that person, with advice (advice.ts) on top.
 */
import { decide } from './decide.js'
import { adviseWorkload, templateGraceRaised } from './advice.js'
import type { Pod } from './pod.js'
import { GRACE_RAISED, type PolicyLimits } from './policy.js'
import { checkPod } from './review.js'
import { TEMPLATE_PATHS, templateAt, type Workload } from './template.js'
import type { NamespaceInfo } from './types.js'

type Json = Record<string, unknown>

/** What reviewing a workload needs besides the workload. */
export interface WorkloadInput {
  readonly workload: Workload
  readonly namespaceName: string
  readonly namespace: NamespaceInfo | undefined
  readonly limits: PolicyLimits
  readonly excludeNamespaces: ReadonlySet<string>
  /** Advice warnings on (the default), or off with `--no-advice`. */
  readonly advice: boolean
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A workload another controller made (a Deployment's ReplicaSet, a CronJob's Job): its creator is not a person. */
function controllerOwned (object: Json): boolean {
  const owners = isObject(object.metadata) ? object.metadata.ownerReferences : undefined
  return Array.isArray(owners) && owners.some(owner => isObject(owner) && owner.controller === true)
}

/** The warnings for a workload's CREATE or UPDATE, each saying they are about its Pods, and why (for the log). */
export function reviewWorkload (input: WorkloadInput): { reason: string, warnings: string[] } {
  const { workload } = input
  if (controllerOwned(workload.object)) return { reason: `${workload.kind} owned by a controller`, warnings: [] }
  const template = templateAt(workload.object, TEMPLATE_PATHS[workload.kind]!)
  // A template the API server will refuse anyway is not ours to judge.
  if (checkPod(template, 'template') !== undefined) return { reason: `${workload.kind} without a usable Pod template`, warnings: [] }
  const pod = template as Pod
  const decision = decide({ pod, namespaceName: input.namespaceName, namespace: input.namespace, limits: input.limits, excludeNamespaces: input.excludeNamespaces, source: 'template' })
  let warnings = [...decision.warnings]
  if (decision.action === 'mutate' && input.advice) {
    // One fact, one warning: the advice on the template's own grace period says that it is raised,
    // and what to write instead, so the note that it is raised goes.
    const restated = templateGraceRaised(pod, decision.grace)
    const kept = warnings.filter(warning => !restated || !warning.startsWith(GRACE_RAISED))
    warnings = [...kept, ...adviseWorkload(workload, pod, decision.grace)]
  }
  return {
    reason: `${workload.kind} reviewed: ${decision.action === 'mutate' ? 'its Pods get the hook' : decision.reason}`,
    warnings: warnings.map(warning => `Pods of this ${workload.kind}: ${warning}`)
  }
}
