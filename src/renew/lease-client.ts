/**
 * The renewal Lease over @kubernetes/client-node (1.4): read, and replace with the resourceVersion
 * read (a 409 is a lost race, not an error). Messages as the certs-script's (`explain`).
 */
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node'
import { explain } from '../common/cluster.js'
import type { LeaseApi, LeaseRecord } from './lease.js'

// client-node 1.4 hands MicroTime fields over as the API server's text, not as Dates.
const time = (value: Date | string | undefined): Date | undefined => value === undefined ? undefined : new Date(value)

/** A LeaseApi for Lease `namespace/name` of `config`'s cluster. */
export function connectLease (config: KubeConfig, namespace: string, name: string): LeaseApi {
  const api = config.makeApiClient(CoordinationV1Api)
  const server = config.getCurrentCluster()!.server
  const what = `Lease ${namespace}/${name}`
  let lease: V1Lease | undefined

  async function read (): Promise<LeaseRecord> {
    try {
      lease = await api.readNamespacedLease({ namespace, name })
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) throw new Error(`reading ${what}: it does not exist; it is part of manifests/ (kubectl apply -k manifests/)`)
      throw explain(err, `reading ${what}`, server)
    }
    const spec = lease.spec ?? {}
    return { holder: spec.holderIdentity, renewTime: time(spec.renewTime), durationSeconds: spec.leaseDurationSeconds, transitions: spec.leaseTransitions ?? 0, resourceVersion: lease.metadata?.resourceVersion ?? '' }
  }

  async function write (current: LeaseRecord, next: Omit<LeaseRecord, 'resourceVersion'>): Promise<boolean> {
    const micro = (date: Date | undefined): V1MicroTime | undefined => date === undefined ? undefined : new V1MicroTime(date.getTime())
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...lease?.metadata, managedFields: undefined, name, namespace, resourceVersion: current.resourceVersion },
      spec: {
        holderIdentity: next.holder,
        renewTime: micro(next.renewTime),
        acquireTime: next.holder === undefined ? undefined : micro(next.renewTime),
        leaseDurationSeconds: next.durationSeconds,
        leaseTransitions: next.transitions
      }
    }
    try {
      await api.replaceNamespacedLease({ namespace, name, body })
      return true
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return false
      throw explain(err, `writing ${what}`, server)
    }
  }

  return { what, read, write }
}
