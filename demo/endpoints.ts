/**
 * What the demo reads from EndpointSlices: which Pod addresses are ready (what a load balancer that
 * follows EndpointSlices, as ingress-nginx or an ALB's target group does, routes to), and which
 * Pods have become not ready (a terminating Pod does at once when it is deleted). Pure.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node'

/** One endpoint of a Service. */
export interface Endpoint { pod: string, address: string, ready: boolean }

/** The endpoints of `slices` for the port named `portName`, as `IP:PORT`, in a stable order. */
export function endpointsOf (slices: readonly V1EndpointSlice[], portName: string): Endpoint[] {
  const found: Endpoint[] = []
  for (const slice of slices) {
    const port = slice.ports?.find(p => p.name === portName)?.port
    if (port === undefined) continue
    for (const endpoint of slice.endpoints ?? []) {
      const ip = endpoint.addresses[0]
      if (ip === undefined) continue
      // ready is unset for an endpoint that is ready as far as anyone knows (EndpointSlice API).
      found.push({ pod: endpoint.targetRef?.name ?? ip, address: `${ip}:${port}`, ready: endpoint.conditions?.ready !== false })
    }
  }
  return found.sort((a, b) => a.address.localeCompare(b.address))
}

/** The ready addresses, what the load balancer routes to. */
export function readyAddresses (endpoints: readonly Endpoint[]): string[] {
  return endpoints.filter(e => e.ready).map(e => e.address)
}
