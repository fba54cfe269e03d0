/**
 * What `lameduck check` sees of each old Pod while it leaves, from Pod and EndpointSlice lists read
 * every poll: when its deletion was first seen, when its endpoint turned not ready and when it left
 * the EndpointSlices, when SIGTERM follows from its preStop pause, and when its container exited.
 * Pure: lists and the time of the read in, the record updated.
 */
import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node'

/** The moments of one old Pod, ms since the epoch on the clock of the machine `check` runs on. */
export interface PodTimes {
  pod: string
  /** First read that showed its deletionTimestamp: the deletion, late by at most one poll. */
  deletedAt: number
  /** The API server's deletionTimestamp (deletion + grace period, to the second), as stored. */
  deletionTimestamp?: string
  /** Its preStop pause, when the hook is a sleep (native or exec `sleep N`). */
  sleepSeconds?: number
  /** Deletion + the pause: when the kubelet sends SIGTERM (the kubelet says nowhere when it did). */
  sigtermAt?: number
  /** Its endpoint first read as not ready (a terminating endpoint is, at once). */
  endpointNotReadyAt?: number
  /** Its endpoint first read as gone from every EndpointSlice. */
  endpointRemovedAt?: number
  /** Its first container's `finishedAt`, to the second, when a read caught it. */
  exitedAt?: number
}

/** The old Pods seen so far, by name, and the Pods each EndpointSlice read listed. */
export interface Observation { pods: Map<string, PodTimes>, inSlices: Set<string> }

export function createObservation (): Observation {
  return { pods: new Map(), inSlices: new Set() }
}

/** The pause of a Pod's first container's preStop, when it is a sleep. */
export function preStopSleepSeconds (pod: V1Pod): number | undefined {
  const hook = pod.spec?.containers[0]?.lifecycle?.preStop
  if (hook?.sleep !== undefined) return hook.sleep.seconds
  const command = hook?.exec?.command ?? []
  return command.length === 2 && /(^|\/)sleep$/.test(command[0]!) && /^\d+$/.test(command[1]!) ? Number(command[1]) : undefined
}

/** Records, from one read of the Deployment's Pods at `now`, the deletions and exits not seen before. */
export function observePods (o: Observation, pods: readonly V1Pod[], now: number): void {
  for (const pod of pods) {
    const name = pod.metadata?.name ?? ''
    if (pod.metadata?.deletionTimestamp === undefined) continue
    let times = o.pods.get(name)
    if (times === undefined) {
      const sleepSeconds = preStopSleepSeconds(pod)
      const stamp = pod.metadata.deletionTimestamp
      times = {
        pod: name,
        deletedAt: now,
        deletionTimestamp: stamp instanceof Date ? stamp.toISOString() : String(stamp),
        ...(sleepSeconds === undefined ? {} : { sleepSeconds, sigtermAt: now + sleepSeconds * 1000 })
      }
      o.pods.set(name, times)
    }
    const finished = pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt
    if (times.exitedAt === undefined && finished !== undefined) times.exitedAt = new Date(finished).getTime()
  }
}

/** Records, from one read of the Service's EndpointSlices at `now`, endpoints turned not ready or gone. */
export function observeSlices (o: Observation, slices: readonly V1EndpointSlice[], now: number): void {
  const listed = new Set<string>()
  for (const endpoint of slices.flatMap(slice => slice.endpoints ?? [])) {
    const name = endpoint.targetRef?.name
    if (name === undefined) continue
    listed.add(name)
    const times = o.pods.get(name)
    // ready is unset for an endpoint that is ready as far as anyone knows (EndpointSlice API).
    if (times !== undefined && endpoint.conditions?.ready === false && times.endpointNotReadyAt === undefined)
      times.endpointNotReadyAt = now
  }
  for (const [name, times] of o.pods) {
    if (times.endpointRemovedAt === undefined && o.inSlices.has(name) && !listed.has(name)) {
      times.endpointRemovedAt = now
      times.endpointNotReadyAt ??= now
    }
  }
  for (const name of listed) o.inSlices.add(name)
}
