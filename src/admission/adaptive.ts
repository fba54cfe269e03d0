/**
 * The `adaptive` handler: the preStop hook runs lameduck-pause (pause/, a static Go program) in the
 * container, which pauses until client traffic to the Pod has been quiet for a while, between the
 * sleep and a maximum (docs/adaptive.md). The program reaches the Pod without touching the app's
 * image: an init container copies it from lameduck's image into an emptyDir, or the image itself is
 * mounted as a volume where every node can (Kubernetes 1.35+ and a runtime that has image volumes).
 * Everything added passes Pod Security `restricted`. Pure: builds plain JSON.
 */
import { formatDuration } from './duration.js'
import type { Container, Pod, PodSpec } from './pod.js'
import type { PodSettings } from './policy.js'
import type { PauseDelivery } from './types.js'

/** The image `--pause-image` names unless told otherwise: lameduck's own (manifests/ use this name). */
export const DEFAULT_PAUSE_IMAGE = 'lameduck:0.1.0'
/** Where the program is in lameduck's image (and in the small image of the Dockerfile's `pause` stage). */
export const PAUSE_PROGRAM = '/usr/local/bin/lameduck-pause'
/** The volume, the init container and the mount path in every hooked container share this name. */
export const PAUSE_NAME = 'lameduck-pause'
const MOUNT = `/${PAUSE_NAME}`

/** The program's path in a hooked container: copied into the emptyDir, or inside the mounted image. */
const programPath = (delivery: PauseDelivery): string =>
  delivery === 'init-container' ? `${MOUNT}/${PAUSE_NAME}` : `${MOUNT}${PAUSE_PROGRAM}`

/** The TCP ports the Pod's containers declare: the ones it serves, whose traffic counts. */
function servedPorts (spec: PodSpec): number[] {
  const ports = new Set<number>()
  for (const container of [...spec.containers, ...spec.initContainers ?? []]) {
    type Port = { containerPort?: unknown, protocol?: unknown }
    const declared = Array.isArray(container.ports) ? container.ports as Port[] : []
    for (const port of declared) {
      if (typeof port.containerPort === 'number' && (port.protocol ?? 'TCP') === 'TCP') ports.add(port.containerPort)
    }
  }
  return [...ports].sort((a, b) => a - b)
}

/**
 * The periods of the probes that may open a connection to the Pod (the kubelet's, or an exec
 * probe's curl): the program lets them open that many without counting them as traffic. Startup
 * probes are over long before the Pod stops.
 */
function probePeriods (spec: PodSpec): number[] {
  const periods: number[] = []
  for (const container of [...spec.containers, ...spec.initContainers ?? []]) {
    const probes = [container.readinessProbe, container.livenessProbe] as Array<{ periodSeconds?: unknown } | undefined>
    for (const probe of probes) {
      // 10 s: the API server's default period.
      if (probe === undefined || probe === null) continue
      periods.push(typeof probe.periodSeconds === 'number' ? probe.periodSeconds : 10)
    }
  }
  return periods
}

/** The exec hook of one container. */
export function adaptiveCommand (spec: PodSpec, container: Container, settings: PodSettings,
  delivery: PauseDelivery): string[] {
  const { max, quiet } = settings.adaptive!
  const ports = servedPorts(spec)
  const probes = probePeriods(spec)
  const path = container.terminationMessagePath
  const messageFile = typeof path === 'string' ? path : '/dev/termination-log'
  return [
    programPath(delivery), 'wait', '--min', `${settings.sleep}s`, '--max', `${max}s`, '--quiet', `${quiet}s`,
    ...ports.length > 0 ? ['--ports', ports.join(',')] : [],
    ...probes.length > 0 ? ['--probe-periods', probes.map(p => `${p}s`).join(',')] : [],
    '--message-file', messageFile
  ]
}

/** Pod Security `restricted`, spelled out so that no Pod-level setting is needed. */
const RESTRICTED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  seccompProfile: { type: 'RuntimeDefault' }
}

/**
 * The init container: the program copies itself into the emptyDir (no shell, no `cp`). Every field
 * the API server would default is set, small requests and limits fit under any quota or LimitRange
 * that asks for them, and it runs first, before any sidecar.
 */
function installer (image: string): Container {
  return {
    name: PAUSE_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: [PAUSE_PROGRAM, 'install', MOUNT],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
    securityContext: RESTRICTED,
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: PAUSE_NAME, mountPath: MOUNT }]
  }
}

function volume (image: string, delivery: PauseDelivery): Record<string, unknown> {
  return delivery === 'init-container'
    ? { name: PAUSE_NAME, emptyDir: { sizeLimit: '16Mi' } }
    : { name: PAUSE_NAME, image: { reference: image, pullPolicy: 'IfNotPresent' } }
}

/**
 * Adds the volume, the init container (when it delivers the program) and a read-only mount in each
 * hooked container, each unless there already (by name): a second pass changes nothing. Writes to
 * `pod`, a copy whose spec and hooked containers are its own (mutate.ts).
 */
export function bringPause (pod: Pod, hooked: readonly Container[], image: string, delivery: PauseDelivery): void {
  const spec = pod.spec
  const volumes = Array.isArray(spec.volumes) ? spec.volumes as Array<{ name?: unknown }> : []
  if (!volumes.some(v => v.name === PAUSE_NAME)) spec.volumes = [...volumes, volume(image, delivery)]
  const inits = spec.initContainers ?? []
  if (delivery === 'init-container' && !inits.some(c => c.name === PAUSE_NAME)) {
    spec.initContainers = [installer(image), ...inits]
  }
  for (const container of hooked) {
    const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts as Array<{ name?: unknown }> : []
    if (mounts.some(m => m.name === PAUSE_NAME)) continue
    container.volumeMounts = [...mounts, { name: PAUSE_NAME, mountPath: MOUNT, readOnly: true }]
  }
}

/** The marker's part for an adaptive pause: ` max=2m quiet=5s`. */
export function adaptiveMarker (settings: PodSettings): string {
  const adaptive = settings.adaptive
  return adaptive === undefined ? '' : ` max=${formatDuration(adaptive.max)} quiet=${formatDuration(adaptive.quiet)}`
}
