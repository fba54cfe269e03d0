/**
 * The renewal Lease over the small client (src/kube/): read, and replace with the resourceVersion
 * read (a 409 is a lost race, not an error). Messages as src/kube/errors.ts words them (`explain`).
 */
import type { KubeClient } from '../kube/client.js'
import { explain, statusOf } from '../kube/errors.js'
import type { LeaseApi, LeaseRecord } from './lease.js'

interface Lease {
  metadata?: Record<string, unknown> & { resourceVersion?: string }
  spec?: {
    holderIdentity?: string
    renewTime?: string
    acquireTime?: string
    leaseDurationSeconds?: number
    leaseTransitions?: number
  }
}

const time = (value: string | undefined): Date | undefined => value === undefined ? undefined : new Date(value)
/** A MicroTime as the API server reads it: RFC 3339 with exactly six fractional digits. */
export const microTime = (date: Date | undefined): string | undefined => date?.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')

/** A LeaseApi for Lease `namespace/name` of `kube`'s cluster. */
export function connectLease (kube: KubeClient, namespace: string, name: string): LeaseApi {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`
  const what = `Lease ${namespace}/${name}`
  let lease: Lease | undefined

  async function read (): Promise<LeaseRecord> {
    try {
      lease = await kube.request<Lease>('GET', path)
    } catch (err) {
      if (statusOf(err) === 404) {
        const why = 'the chart and manifests/ install it (lameduck may update it, not create it)'
        throw new Error(`reading ${what}: it does not exist; ${why}`)
      }
      throw explain(err, `reading ${what}`, kube.server)
    }
    const spec = lease.spec ?? {}
    return { holder: spec.holderIdentity, renewTime: time(spec.renewTime), durationSeconds: spec.leaseDurationSeconds, transitions: spec.leaseTransitions ?? 0, resourceVersion: lease.metadata?.resourceVersion ?? '' }
  }

  async function write (current: LeaseRecord, next: Omit<LeaseRecord, 'resourceVersion'>): Promise<boolean> {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...lease?.metadata,
        managedFields: undefined,
        name,
        namespace,
        resourceVersion: current.resourceVersion
      },
      spec: {
        holderIdentity: next.holder,
        renewTime: microTime(next.renewTime),
        acquireTime: next.holder === undefined ? undefined : microTime(next.renewTime),
        leaseDurationSeconds: next.durationSeconds,
        leaseTransitions: next.transitions
      }
    }
    try {
      await kube.request('PUT', path, body)
      return true
    } catch (err) {
      if (statusOf(err) === 409) return false
      throw explain(err, `writing ${what}`, kube.server)
    }
  }

  return { what, read, write }
}
