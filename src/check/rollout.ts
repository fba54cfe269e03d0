/**
 * How `lameduck check` reads the cluster's state: the restart patch, whether a rollout is complete
 * (as `kubectl rollout status` judges it), whether the load Job runs or ended, and which Pods are
 * still leaving. Pure: objects in, a state and a message out.
 */
import type { V1Deployment, V1Job, V1LabelSelector, V1Pod, V1Service } from '@kubernetes/client-node'

/** The Pod template annotation `kubectl rollout restart` sets; a new value means a new ReplicaSet. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

/** Where a wait stands: `done` with nothing more to wait for, or still `waiting`, with why. */
export type WaitState = { done: true, message: string } | { done: false, message: string }

/** The merge patch `kubectl rollout restart` sends, stamped RFC 3339 to the second as kubectl does. */
export function restartPatch (at: Date): object {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z')
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } } }
}

/** Throws if `kubectl rollout restart` would refuse the Deployment (it is paused). */
export function checkRestartable (d: V1Deployment): void {
  if (d.spec?.paused === true) throw new Error(`deployment ${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''} is paused: resume it first (kubectl rollout resume)`)
}

/**
 * The rollout's state as `kubectl rollout status` words it (kubectl's DeploymentStatusViewer):
 * done once the controller has seen the latest spec and every replica is updated, no old one is
 * counted, and every updated one is available. Throws when the progress deadline was exceeded.
 */
export function rolloutState (d: V1Deployment): WaitState {
  const name = d.metadata?.name ?? ''
  const status = d.status ?? {}
  if ((d.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' }
  const progressing = status.conditions?.find(c => c.type === 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded') throw new Error(`deployment "${name}" exceeded its progress deadline`)
  const updated = status.updatedReplicas ?? 0
  const wanted = d.spec?.replicas ?? 1
  const prefix = `Waiting for deployment "${name}" rollout to finish:`
  if (updated < wanted) return { done: false, message: `${prefix} ${updated} out of ${wanted} new replicas have been updated...` }
  const replicas = status.replicas ?? 0
  if (replicas > updated) return { done: false, message: `${prefix} ${replicas - updated} old replicas are pending termination...` }
  if ((status.availableReplicas ?? 0) < updated) return { done: false, message: `${prefix} ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...` }
  return { done: true, message: `deployment "${name}" successfully rolled out` }
}

/** A label selector as the `labelSelector` query parameter writes it (`a=b,c in (d,e),!f`). */
export function selectorString (selector: V1LabelSelector | undefined): string {
  const terms = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',')
    if (e.operator === 'In') terms.push(`${e.key} in (${values})`)
    else if (e.operator === 'NotIn') terms.push(`${e.key} notin (${values})`)
    else if (e.operator === 'Exists') terms.push(e.key)
    else if (e.operator === 'DoesNotExist') terms.push(`!${e.key}`)
    else throw new Error(`unknown label selector operator ${JSON.stringify(e.operator)}`)
  }
  return terms.join(',')
}

/**
 * Throws unless the Service sends its traffic to the Deployment's Pods: otherwise a restart would not
 * touch what the load hits, and the check would pass for nothing.
 */
export function checkServiceSelectsDeployment (service: V1Service, d: V1Deployment): void {
  const selector = service.spec?.selector ?? {}
  const labels = d.spec?.template.metadata?.labels ?? {}
  const what = `Service ${service.metadata?.name ?? ''} does not send traffic to the Pods of deployment ${d.metadata?.name ?? ''}`
  if (Object.keys(selector).length === 0) throw new Error(`${what}: it has no selector`)
  const missing = Object.entries(selector).filter(([k, v]) => labels[k] !== v)
  if (missing.length > 0) throw new Error(`${what}: its selector ${missing.map(([k, v]) => `${k}=${v}`).join(',')} does not match their labels`)
}

/** The load Job has finished (`done`) or still runs; throws when it failed, with its reason. */
export function jobState (job: V1Job): WaitState {
  const name = job.metadata?.name ?? ''
  const failed = job.status?.conditions?.find(c => c.type === 'Failed' && c.status === 'True')
  if (failed !== undefined) throw new Error(`the load Job ${name} failed: ${failed.reason ?? 'no reason given'}${failed.message === undefined ? '' : `: ${failed.message}`}`)
  const complete = job.status?.conditions?.some(c => c.type === 'Complete' && c.status === 'True') ?? false
  return complete ? { done: true, message: `the load Job ${name} finished` } : { done: false, message: `the load Job ${name} is running` }
}

/**
 * Whether the load has started: its Pod is Running (or already ended). While Pending, the message
 * carries the container's waiting reason (`ImagePullBackOff`, ...) or the Pod's unschedulable reason.
 */
export function loadStarted (pods: readonly V1Pod[]): WaitState {
  const pod = pods[0]
  if (pod === undefined) return { done: false, message: 'the load Job has no Pod yet' }
  const name = pod.metadata?.name ?? ''
  const phase = pod.status?.phase ?? 'Pending'
  if (phase !== 'Pending') return { done: true, message: `load Pod ${name} is ${phase}` }
  const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    s => s.state?.waiting?.reason !== undefined
  )?.state?.waiting
  const unscheduled = pod.status?.conditions?.find(c => c.type === 'PodScheduled' && c.status === 'False')
  const why = waiting !== undefined
    ? `${waiting.reason!}${waiting.message === undefined ? '' : `: ${waiting.message}`}`
    : unscheduled !== undefined ? `not scheduled${unscheduled.message === undefined ? '' : `: ${unscheduled.message}`}` : pod.spec?.nodeName === undefined ? 'not scheduled' : 'starting'
  return { done: false, message: `load Pod ${name} is Pending (${why})` }
}

/** Done once no Pod of the Deployment is terminating: the old ones have run their preStop and exited. */
export function oldPodsGone (pods: readonly V1Pod[]): WaitState {
  const leaving = pods.filter(p => p.metadata?.deletionTimestamp !== undefined).map(p => p.metadata?.name ?? '')
  return leaving.length === 0
    ? { done: true, message: 'no old Pod is left' }
    : { done: false, message: `${leaving.length} old Pod${leaving.length === 1 ? ' is' : 's are'} still terminating (${leaving.join(', ')})` }
}
