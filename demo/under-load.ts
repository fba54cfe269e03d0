/**
 * One rollout under load, all of it real: `kubectl rollout restart` of the sample app's Deployment,
 * carried out by the Deployment controller and the kubelet on the node (preStop, SIGTERM, SIGKILL),
 * with the EndpointSlice controller's updates. Two paths carry load at the same time:
 *
 *   - ClusterIP: a Pod runs `lameduck load` against the Service's DNS name (pod-load.ts), through
 *     kube-proxy's rules;
 *   - load balancer: `lameduck load` on this machine against nginx, which routes to the Pod
 *     addresses the EndpointSlices list as ready, and learns of a change only after the
 *     propagation delay, the way ingress-nginx or an ALB's target group follows EndpointSlices.
 *     That delay is the only simulated part.
 *
 * The timeline's marks come from watches of the API server: a Pod's deletion (the kubelet starts
 * its preStop at once; SIGTERM follows when preStop ends, read from the stored Pod), its endpoint
 * turning not ready, and nginx no longer routing to it.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, DiscoveryV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node'
import type { Cluster } from '../control-plane/cluster.js'
import { freePorts } from '../control-plane/ports.js'
import { runLoad } from '../src/load/run.js'
import { toJsonReport, type JsonReport } from '../src/load/report.js'
import type { Children } from './children.js'
import { endpointsOf, readyAddresses } from './endpoints.js'
import { startNginx } from './nginx.js'
import { terminationPlan, type StoredPod } from './plan.js'
import { startPodLoad } from './pod-load.js'
import type { Disruption, RunEvent } from './summary.js'
import { countWarningEvents, type WarningEventSource } from '../src/check/warning-events.js'
import { APP_PORT, kubectl } from './workloads.js'
import { disrupt } from './disrupt.js'
import type { Scenario } from './scenarios.js'

/** Load before the restart. */
const WARMUP_MS = 3000

/** What one run needs. */
export interface UnderLoadOptions {
  namespace: string
  rate: number
  durationSeconds: number
  propagationDelayMs: number
  retries: boolean
  /** What happens to the Deployment `web` under load. */
  scenario: Scenario
  /** The node drained or lost (drain, node-loss): the load's Pods keep off it. */
  node?: string
  /** Slow requests besides the load, on each path (the nginx scenario): each `ms` long, `rate` a second. */
  slow?: { ms: number, rate: number }
  /** This run's directory: nginx's prefix. */
  dir: string
  log: (line: string) => void
}

/** What one path of a run came to; event times are from that path's own start. */
export interface PathResult { report: JsonReport, accessLog: string, events: RunEvent[], slow?: JsonReport }

/**
 * Both paths, the kubelet's events as the API server has them, the Warning events about the Pods
 * stopped (per reason), each old Pod's pause in ms (as lameduck-pause reported it in the termination
 * message, else the fixed hook's), how long the disruption took from its start until every old Pod
 * was gone, and when the Pods were stopped (from the first deletion); when the disruption began
 * (ms since the epoch: a lost node's milestones count from it).
 */
export interface UnderLoadResult {
  clusterIP: PathResult
  loadBalancer: PathResult
  kubeletEvents: string[]
  warningEvents: Record<string, number>
  disruption?: Disruption
  rolloutDoneMs: number
  pauses: number[]
  rolloutMs: number
  disruptedAt: number
}

/** lameduck-pause's report, from a container's termination message (docs/adaptive.md). */
function pauseReport (pod: V1Pod): { pausedMs: number } | undefined {
  for (const status of pod.status?.containerStatuses ?? []) {
    const message = status.state?.terminated?.message
    if (message === undefined) continue
    try {
      const report = JSON.parse(message) as { lameduck?: unknown, pausedMs?: unknown }
      if (report.lameduck !== undefined && typeof report.pausedMs === 'number') return { pausedMs: report.pausedMs }
    } catch { /* not lameduck's */ }
  }
  return undefined
}

interface CoreEvent extends WarningEventSource {
  message?: string
  lastTimestamp?: string
  eventTime?: string
  source?: { component?: string }
  reportingComponent?: string
}

/** Runs the rollout under load on both paths; everything it starts is registered with `children` or stopped here. */
export async function runUnderLoad (
  cluster: Cluster,
  children: Children,
  o: UnderLoadOptions
): Promise<UnderLoadResult> {
  const { log, namespace } = o
  await mkdir(o.dir, { recursive: true })
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(cluster.kubeconfigPath)
  const core = kubeConfig.makeApiClient(CoreV1Api)
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api)
  const selector = 'kubernetes.io/service-name=web'
  const pods = makeInformer(
    kubeConfig,
    `/api/v1/namespaces/${namespace}/pods`,
    () => core.listNamespacedPod({ namespace, labelSelector: 'app=web' }),
    'app=web'
  )
  const slices = makeInformer(
    kubeConfig,
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    () => discovery.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
    selector
  )
  let watching = true
  for (const informer of [pods, slices] as const)
    informer.on('error', (err: unknown) => {
      if (watching) log(`watch failed: ${String(err)}`)
    })
  await Promise.all([pods.start(), slices.start()])

  const marks: Array<{ at: number; kind: RunEvent['kind']; pod: string }> = []
  let t0 = performance.now()
  const at = (): string => `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`
  const mark = (kind: RunEvent['kind'], pod: string, when = performance.now()): void => {
    marks.push({ at: when, kind, pod })
  }

  const initial = endpointsOf(slices.list(), APP_PORT.name)
  const [port] = (await freePorts(1)) as [number]
  const nginx = await startNginx(children, {
    prefix: join(o.dir, 'nginx'),
    port,
    upstreams: readyAddresses(initial),
    retries: o.retries,
    ...(o.slow === undefined ? {} : { readTimeoutSeconds: Math.ceil(o.slow.ms / 1000) + 10 })
  })
  log(
    `nginx on ${nginx.url} in front of ${readyAddresses(initial).join(', ')}; it follows the EndpointSlices ${o.propagationDelayMs / 1000}s late`
  )

  // The load balancer: every EndpointSlice change reaches nginx after the propagation delay.
  // Only a Pod that was ready counts as turning not ready (a new Pod is not ready until its probe passes).
  const wasReady = new Set(initial.filter(e => e.ready).map(e => e.pod))
  const notReady = new Set<string>()
  let routed = new Map(initial.filter(e => e.ready).map(e => [e.address, e.pod]))
  const timers = new Set<NodeJS.Timeout>()
  const onSlices = (): void => {
    const endpoints = endpointsOf(slices.list(), APP_PORT.name)
    for (const e of endpoints) {
      if (e.ready) wasReady.add(e.pod)
      else if (wasReady.has(e.pod) && !notReady.has(e.pod)) {
        notReady.add(e.pod)
        mark('endpoint-not-ready', e.pod)
        log(`${at()}  EndpointSlice: ${e.pod} not ready`)
      }
    }
    const next = new Map(endpoints.filter(e => e.ready).map(e => [e.address, e.pod]))
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (next.size === 0) return
      // Caught: a reload that fails (nginx stopped by Ctrl-C meanwhile) must not crash the cleanup.
      nginx.setUpstreams([...next.keys()]).then(
        () => {
          for (const [address, pod] of routed)
            if (!next.has(address)) {
              mark('endpoint-removed', pod)
              log(`${at()}  nginx no longer routes to ${pod}`)
            }
          for (const [address, pod] of next) if (!routed.has(address)) log(`${at()}  nginx routes to ${pod} too`)
          routed = next
        },
        (err: unknown) => {
          log(`nginx reload failed: ${(err as Error).message}`)
        }
      )
    }, o.propagationDelayMs)
    timers.add(timer)
  }
  for (const event of ['add', 'update', 'delete'] as const) slices.on(event, onSlices)
  const deleted = new Map<string, { at: number, pauseMs: number, reported: boolean }>()
  const lost = (pod: V1Pod): boolean => o.scenario === 'node-loss' && pod.spec?.nodeName === o.node
  const onPod = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? ''
    const known = deleted.get(name)
    const report = pauseReport(pod)
    if (known !== undefined && report !== undefined && !known.reported) {
      // The adaptive pause says when it ended: SIGTERM then, not at its maximum.
      Object.assign(known, { pauseMs: report.pausedMs, reported: true })
      const sigterm = marks.findIndex(m => m.kind === 'sigterm' && m.pod === name)
      if (sigterm !== -1) marks[sigterm]!.at = known.at + report.pausedMs
      const seconds = (report.pausedMs / 1000).toFixed(1)
      log(`${at()}  Pod ${name}: lameduck-pause ended its pause after ${seconds}s (its termination message)`)
    }
    if (pod.metadata?.deletionTimestamp === undefined || known !== undefined) return
    if (lost(pod)) {
      deleted.set(name, { at: performance.now(), pauseMs: 0, reported: true })
      mark('pod-deleted', name)
      log(`${at()}  Pod ${name} evicted from the lost node: no kubelet there runs its preStop or sends SIGTERM`)
      return
    }
    const plan = terminationPlan(pod as StoredPod)
    const now = performance.now()
    deleted.set(name, { at: now, pauseMs: plan.sigtermAtMs, reported: false })
    mark('pod-deleted', name, now)
    mark('sigterm', name, now + plan.sigtermAtMs)
    log(
      `${at()}  Pod ${name} deleted: the kubelet runs preStop (${plan.preStop}), SIGTERM at +${plan.sigtermAtMs / 1000}s${plan.preStop.startsWith('adaptive') ? ' at the latest' : ''}, grace ${plan.graceSeconds}s`
    )
  }
  pods.on('update', onPod)
  pods.on('delete', onPod)

  const url = `http://web.${namespace}.svc/`
  log(
    `load: ${o.rate} requests/s for ${o.durationSeconds}s on each path: a Pod to ${url} (ClusterIP), and this machine to nginx`
  )
  const avoid = o.node === undefined ? {} : { avoidNode: o.node }
  const { durationSeconds } = o
  const podLoad = await startPodLoad(cluster, { namespace, url, rate: o.rate, durationSeconds, ...avoid })
  t0 = performance.now()
  const wallStart = Date.now()
  const hostLoad = runLoad({
    url: nginx.url,
    rate: o.rate,
    durationMs: o.durationSeconds * 1000,
    onProgress: p => {
      if (Math.round(performance.now() - t0) % 5000 < 1000)
        log(`${at()}  load through nginx: sent ${p.sent}, failed ${p.failed}`)
    }
  })
  // The slow requests start with the load, at a low rate, so that some are in flight at every deletion.
  const slowPath = o.slow === undefined ? undefined : `slow?ms=${o.slow.ms}`
  const slowTimeoutSeconds = o.slow === undefined ? 0 : Math.ceil(o.slow.ms / 1000) + 10
  const slowPod =
    o.slow === undefined
      ? undefined
      : await startPodLoad(cluster, {
          namespace,
          url: `${url}${slowPath!}`,
          rate: o.slow.rate,
          durationSeconds,
          timeoutSeconds: slowTimeoutSeconds,
          name: 'demo-slow',
          ...avoid
        })
  const slowHost =
    o.slow === undefined
      ? undefined
      : runLoad({
          url: `${nginx.url}${slowPath!}`,
          rate: o.slow.rate,
          durationMs: o.durationSeconds * 1000,
          timeoutMs: slowTimeoutSeconds * 1000
        })
  if (o.slow !== undefined)
    log(`${at()}  slow requests: ${o.slow.rate}/s of ${o.slow.ms / 1000}s each (/${slowPath!}) on each path too`)
  await sleep(WARMUP_MS)
  const disrupted = performance.now()
  const disruptedAt = Date.now()
  // A lost node's Pods die at once, with no termination to mark but the SIGKILL.
  for (const pod of pods.list()) if (lost(pod)) mark('sigkill', pod.metadata?.name ?? '')
  await disrupt(
    cluster,
    core,
    o.scenario,
    namespace,
    line => {
      log(`${at()}  ${line}`)
    },
    o.node
  )
  // `rollout status` returns before the last old Pod has finished its pause: wait until none is left
  // (a lost node's Pods stay until someone deletes the node: nothing is left running in them).
  while (pods.list().some(p => p.metadata?.deletionTimestamp !== undefined && !lost(p))) await sleep(200)
  const rolloutDoneMs = performance.now() - t0
  const rolloutMs = performance.now() - disrupted
  const firstDeletion = marks.find(m => m.kind === 'pod-deleted')?.at
  // On the wall clock, as each load's report states its own start.
  const { timeOrigin } = performance
  const disruption =
    firstDeletion === undefined
      ? undefined
      : { fromAt: timeOrigin + firstDeletion, toAt: timeOrigin + t0 + rolloutDoneMs }
  log(`${at()}  ${o.scenario} done: every old Pod is gone`)
  const lb = toJsonReport(await hostLoad)
  log(`${at()}  load through nginx done: ${lb.requests} requests, ${lb.failed} failed`)
  const podReport = await podLoad.report()
  log(`${at()}  load through the ClusterIP done: ${podReport.requests} requests, ${podReport.failed} failed`)
  const slowLb = slowHost === undefined ? undefined : toJsonReport(await slowHost)
  const slowReport = await slowPod?.report()
  if (slowLb !== undefined && slowReport !== undefined)
    log(
      `${at()}  slow requests: ${slowLb.failed} of ${slowLb.requests} failed through nginx, ${slowReport.failed} of ${slowReport.requests} through the ClusterIP`
    )
  for (const timer of timers) clearTimeout(timer)
  watching = false
  await Promise.all([pods.stop(), slices.stop()])
  const accessLog = await nginx.accessLog()
  await nginx.stop()

  const events = (
    JSON.parse(await kubectl(cluster, ['get', 'events', '-n', namespace, '-o', 'json'])) as { items: CoreEvent[] }
  ).items
  const kubeletEvents = events
    .filter(
      e =>
        (e.source?.component ?? e.reportingComponent) === 'kubelet' && (e.involvedObject?.name ?? '').startsWith('web-')
    )
    .map(e => ({
      t: Date.parse(e.lastTimestamp ?? e.eventTime ?? '') - wallStart,
      line: `${e.reason ?? ''} ${e.involvedObject?.name ?? ''}: ${e.message ?? ''}`
    }))
    .filter(e => e.t >= -1000)
    .sort((a, b) => a.t - b.t)
    .map(e => `${`+${(e.t / 1000).toFixed(0)}s`.padStart(5)}  kubelet  ${e.line}`)
  const eventsFrom = (start: number): RunEvent[] => marks.map(m => ({ tMs: m.at - start, kind: m.kind, pod: m.pod }))
  return {
    clusterIP: {
      report: podReport,
      accessLog: '',
      events: eventsFrom(podLoad.startedAt),
      ...(slowReport === undefined ? {} : { slow: slowReport })
    },
    loadBalancer: { report: lb, accessLog, events: eventsFrom(t0), ...(slowLb === undefined ? {} : { slow: slowLb }) },
    kubeletEvents,
    warningEvents: countWarningEvents(events, new Set(deleted.keys())),
    ...(disruption === undefined ? {} : { disruption }),
    rolloutDoneMs,
    pauses: [...deleted.values()].map(d => d.pauseMs),
    rolloutMs,
    disruptedAt
  }
}
