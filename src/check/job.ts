/**
 * The load Job that `lameduck check` starts: one Pod running `lameduck load` against the Service,
 * with the JSON report as the last line of its log. Pure: the manifest and the URL from options.
 */
import type { V1Job, V1Service, V1ServicePort } from '@kubernetes/client-node'
import { CHECK_TARGET_ANNOTATION } from '../admission/keys.js'

/** The image `lameduck check` runs unless told otherwise: the one manifests/ name. */
export const DEFAULT_IMAGE = 'lameduck:0.1.0'
/** Name of the container that runs the load; its log holds the report. */
export const LOAD_CONTAINER = 'load'
/** Every generated Job's name starts with this; the API server adds a unique suffix. */
export const JOB_NAME_PREFIX = 'lameduck-check-'
/** Labels on the Job and its Pod, so that `kubectl get jobs -l app.kubernetes.io/name=lameduck-check` finds them. */
export const JOB_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/name': 'lameduck-check', 'app.kubernetes.io/managed-by': 'lameduck' }
/** A finished Job is kept this long (for its log), then the TTL controller removes it. */
export const JOB_TTL_SECONDS = 600
/** Beyond the load's own duration: image pull, start, and the last requests' timeouts. */
const DEADLINE_SLACK_SECONDS = 180
/**
 * The load's CPU request, in millicores per request/s, and at least: about twice the ~1 ms of CPU
 * `lameduck load --no-keep-alive` was measured to use per request, so a busy node still gives it
 * what it needs (docs/check.md#when-the-load-falls-behind). No CPU limit: a limit throttles.
 */
const CPU_MILLIS_PER_RATE = 2
const MIN_CPU_MILLIS = 100

/** The load Pod's CPU request for `rate` requests/s: `100m` up to 50 requests/s, then 2m each. */
export function loadCpu (rate: number): string {
  return `${Math.max(MIN_CPU_MILLIS, Math.ceil(rate * CPU_MILLIS_PER_RATE))}m`
}

/** What the Job is built from. */
export interface LoadJobOptions {
  namespace: string
  deployment: string
  url: string
  rate: number
  durationSeconds: number
  image: string
  /** `lameduck load --identify`: how answers say which replica sent them. */
  identify?: string
  /** The load Pod's CPU request (a Kubernetes quantity); default `loadCpu(rate)`. */
  cpu?: string
}

/** `http://SERVICE.NAMESPACE.svc:PORT/PATH`: the Service's cluster DNS name, resolved in any namespace. */
export function serviceUrl (service: string, namespace: string, port: number, path: string): string {
  return `http://${service}.${namespace}.svc:${port}${path}`
}

/**
 * The Service port to load: `wanted` by number or name, or the only port, or the one named `http`.
 * Throws an Error naming the ports there are when that is ambiguous or absent.
 */
export function pickServicePort (service: V1Service, wanted?: string): number {
  const name = `Service ${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`
  const ports: V1ServicePort[] = service.spec?.ports ?? []
  const list = ports.map(p => p.name === undefined ? String(p.port) : `${p.port} (${p.name})`).join(', ')
  if (wanted !== undefined) {
    const found = ports.find(p => String(p.port) === wanted || p.name === wanted)
    if (found === undefined) throw new Error(`${name} has no port ${wanted}; it has ${list === '' ? 'none' : list}`)
    return found.port
  }
  const only = ports.length === 1 ? ports[0] : ports.find(p => p.name === 'http')
  if (only === undefined) throw new Error(ports.length === 0 ? `${name} has no ports` : `${name} has ports ${list}: choose one with --port`)
  return only.port
}

/** The Job manifest, with `generateName` so every run gets its own Job. */
export function buildLoadJob (o: LoadJobOptions): V1Job {
  const labels = { ...JOB_LABELS }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: JOB_NAME_PREFIX, namespace: o.namespace, labels, annotations: { [CHECK_TARGET_ANNOTATION]: `${o.namespace}/${o.deployment}` } },
    spec: {
      // One attempt: a retried load would report only its last try, hiding the failures.
      backoffLimit: 0,
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
      // Bounded even if nobody waits for it (check timed out, or was interrupted).
      activeDeadlineSeconds: o.durationSeconds + DEADLINE_SLACK_SECONDS,
      template: {
        metadata: { labels },
        spec: {
          // Never: a load that stopped is reported, not restarted (and lameduck leaves such Pods alone).
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: LOAD_CONTAINER,
            image: o.image,
            // --no-keep-alive: every request a new connection, so each one goes where kube-proxy routes it now;
            // a kept-alive connection would stay pinned to the Pod it first reached.
            args: ['load', '--url', o.url, '--rate', String(o.rate), '--duration', `${o.durationSeconds}s`, '--no-keep-alive', ...(o.identify === undefined ? [] : ['--identify', o.identify]), '--json', '-'],
            resources: { requests: { cpu: o.cpu ?? loadCpu(o.rate), memory: '64Mi' }, limits: { memory: '256Mi' } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }
          }]
        }
      }
    }
  }
}
