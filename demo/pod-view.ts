/**
 * The lines of a Pod that show what lameduck did, for the demo's printout of a server-side dry run:
 * its name, the `lameduck.dev/injected` annotation, the grace period and each container's
 * lifecycle. Everything else the API server defaults (tolerations, dnsPolicy, …) is left out. Pure.
 */
import { stringify } from 'yaml'

/** The parts of a Pod the view reads. */
export interface PodLike {
  metadata?: { name?: string, generateName?: string, namespace?: string, annotations?: Record<string, string> }
  spec?: {
    terminationGracePeriodSeconds?: number
    containers?: Array<{ name?: string, image?: string, lifecycle?: unknown }>
  }
}

/** The trimmed Pod as YAML. */
export function podView (pod: PodLike): string {
  const { metadata = {}, spec = {} } = pod
  const view = {
    metadata: {
      ...(metadata.name === undefined ? { generateName: metadata.generateName } : { name: metadata.name }),
      namespace: metadata.namespace,
      annotations: metadata.annotations
    },
    spec: {
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      containers: (spec.containers ?? []).map(c => ({ name: c.name, image: c.image, lifecycle: c.lifecycle }))
    }
  }
  // stringify drops undefined values, so absent fields stay absent.
  return stringify(view).trimEnd()
}
