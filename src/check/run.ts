/**
 * `lameduck check`, the steps: start a load Job against the Service (or, with `url`, the load from
 * this process), stop the Deployment's old Pods once the load runs (stopping.ts: a restart, a
 * scenario's step, or the end of the measuring pause), wait for them to be gone while noting when
 * each one was deleted and left the EndpointSlices, wait for the load to end, and read its report
 * from the Pod's log. Waiting is wait.ts's. The cluster and the clock are passed in, so tests drive
 * every step.
 */
import type { V1Deployment, V1EndpointSlice, V1Job, V1Pod, V1Service } from '@kubernetes/client-node'
import { LOAD_CONTAINER, buildLoadJob, pickServicePort, serviceUrl } from './job.js'
import { createObservation, observePods, observeSlices, type Observation, type PodTimes } from './observe.js'
import {
  checkRestartable, checkServiceSelectsDeployment, jobState, loadStarted, oldPodsGone, selectorString
} from './rollout.js'
import { chooseStopping } from './stopping.js'
import { createWait, type Wait, type WaitEnv } from './wait.js'
import { extractReport } from './verdict.js'
import type { JsonReport } from '../load/report.js'
import type { DisruptContext } from './scenario.js'
import type { WarningEventSource } from './warning-events.js'

/** The cluster calls `runCheck` makes; each failure is an Error whose message says what was being done. */
export interface CheckCluster {
  readonly server: string
  readDeployment(namespace: string, name: string): Promise<V1Deployment>
  readService(namespace: string, name: string): Promise<V1Service>
  /** Creates the Job; resolves with the name the API server gave it. */
  createJob(namespace: string, job: V1Job): Promise<string>
  readJob(namespace: string, name: string): Promise<V1Job>
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>
  /** Sends a merge patch; resolves with the patched Deployment. */
  patchDeployment(namespace: string, name: string, patch: object): Promise<V1Deployment>
  readLog(namespace: string, pod: string, container: string): Promise<string>
  /** The namespace's Events (for the kubelet's Warning events about the old Pods); optional. */
  listEvents?: (namespace: string) => Promise<WarningEventSource[]>
  /**
   * Watches the objects under the list `path` that match `labelSelector`: each event (the ones that
   * exist come first, as ADDED) goes to `onEvent`; `onEnd` is called if the watch ends unasked (with
   * the error, if any). Resolves with the function that stops it.
   */
  watch(
    path: string,
    labelSelector: string,
    onEvent: (type: string, object: unknown) => void,
    onEnd: (err: Error | undefined) => void
  ): Promise<() => void>
}

/** The load run from this process (`--url`): what it is asked. */
export interface LocalLoad { url: string, rate: number, durationMs: number, identify: string, signal: AbortSignal }

/**
 * Progress lines and the clock; `interrupted` is true once the user asked to stop (Ctrl-C): the run
 * stops waiting, puts back what it changed, and fails.
 */
export interface CheckEnv extends WaitEnv {
  /** Runs the load from this process (for `url`); resolves with its report. */
  runLocalLoad?: (load: LocalLoad) => Promise<JsonReport>
}

/** What to check. */
export interface CheckOptions {
  namespace: string
  deployment: string
  service: string
  /** Service port number or name; default its only port (or the one named http). */
  port?: string
  path: string
  rate: number
  durationSeconds: number
  image: string
  /** For the whole run, from the start. */
  timeoutMs: number
  /** Between two reads while waiting (default 1 s). */
  pollMs?: number
  /** How the load reads which replica answered (`--identify`, load/identify.ts). */
  identify: string
  /** Load this URL from this process instead of the Service from a Job (a load balancer's address). */
  url?: string
  /** `--measure`: the pause the measured Pods get. */
  measureSleepSeconds?: number
  /** Stops the Pods another way than a restart (`--scenario`, scenario.ts). */
  disrupt?: (ctx: DisruptContext) => Promise<void>
  /** The load Pod's CPU request (`--load-cpu`); default sized from the rate (job.ts). */
  loadCpu?: string
}

/** A finished check: the Job it ran (none with `url`), the report it read, and the old Pods' moments. */
export interface CheckResult { jobName?: string, url: string, report: JsonReport, pods: PodTimes[] }

/** A load that runs: whether it already ended, and its report once it does. */
interface StartedLoad { jobName?: string, ended (): Promise<boolean>, report (): Promise<JsonReport>, stop (): void }

/** Load before the restart when it runs from here: every replica answers a few requests first. */
const LOCAL_WARMUP_MS = 2000

/** Runs the check; rejects with an Error that says what failed or what it was still waiting for. */
export async function runCheck (o: CheckOptions, cluster: CheckCluster, env: CheckEnv): Promise<CheckResult> {
  const wait = createWait(env, o.timeoutMs, o.pollMs)
  const { namespace } = o
  const deployment = await cluster.readDeployment(namespace, o.deployment)
  checkRestartable(deployment)
  const service = await cluster.readService(namespace, o.service)
  checkServiceSelectsDeployment(service, deployment)
  const url = o.url ?? serviceUrl(o.service, namespace, pickServicePort(service, o.port), o.path)
  const podSelector = selectorString(deployment.spec?.selector)
  const stopping = chooseStopping({
    namespace, name: o.deployment, deployment, podSelector, cluster, wait, log: env.log, now: env.now
  }, o)
  let load: StartedLoad | undefined
  const watches: Array<() => void> = []
  let result: CheckResult
  try {
    await stopping.prepare()
    load = o.url === undefined ? await startJobLoad(o, url, cluster, env, wait) : await startLocalLoad(o, env)
    const seen = createObservation()
    watches.push(...await watchOldPods(o, podSelector, seen, cluster, env))
    await stopping.stop()
    await wait(`the old Pods of deployment ${o.deployment} to exit`, async () => oldPodsGone(await cluster.listPods(namespace, podSelector)))
    for (const stop of watches.splice(0)) stop()
    if (await load.ended()) throw new Error(`the load ${load.jobName === undefined ? 'from here' : `Job ${load.jobName}`} ended before the old Pods were gone, so it did not see the whole rollout: use a longer --duration`)
    result = {
      ...(load.jobName === undefined ? {} : { jobName: load.jobName }),
      url,
      report: await load.report(),
      pods: [...seen.pods.values()]
    }
  } catch (err) {
    await stopping.undo()
    throw err
  } finally {
    for (const stop of watches) stop()
    load?.stop()
  }
  return result
}

/**
 * Watches the Deployment's Pods and the Service's EndpointSlices, noting each old Pod's moments as
 * the events arrive (within tens of ms; a poll would add its interval). Resolves with the stops.
 */
async function watchOldPods (
  o: CheckOptions,
  podSelector: string,
  seen: Observation,
  cluster: CheckCluster,
  env: CheckEnv
): Promise<Array<() => void>> {
  let watching = true
  const ended =
    (what: string) =>
    (err: Error | undefined): void => {
      if (watching)
        env.log(
          `the watch of ${what} ended${err === undefined ? '' : ` (${err.message})`}: later moments of the old Pods are missed`
        )
    }
  const slices = new Map<string, V1EndpointSlice>()
  const stops = [
    await cluster.watch(
      `/api/v1/namespaces/${o.namespace}/pods`,
      podSelector,
      (_type, pod) => {
        observePods(seen, [pod as V1Pod], env.now())
      },
      ended('the Pods')
    ),
    await cluster.watch(
      `/apis/discovery.k8s.io/v1/namespaces/${o.namespace}/endpointslices`,
      `kubernetes.io/service-name=${o.service}`,
      (type, object) => {
        const slice = object as V1EndpointSlice
        if (type === 'DELETED') slices.delete(slice.metadata?.name ?? '')
        else slices.set(slice.metadata?.name ?? '', slice)
        observeSlices(seen, [...slices.values()], env.now())
      },
      ended('the EndpointSlices')
    )
  ]
  return [
    () => {
      watching = false
    },
    ...stops
  ]
}

/** The load Job against the Service, once its Pod runs. */
async function startJobLoad (
  o: CheckOptions,
  url: string,
  cluster: CheckCluster,
  env: CheckEnv,
  wait: Wait
): Promise<StartedLoad> {
  const { namespace } = o
  const job = buildLoadJob({
    namespace,
    deployment: o.deployment,
    url,
    rate: o.rate,
    durationSeconds: o.durationSeconds,
    image: o.image,
    identify: o.identify,
    ...(o.loadCpu === undefined ? {} : { cpu: o.loadCpu })
  })
  const jobName = await cluster.createJob(namespace, job)
  env.log(`started load Job ${namespace}/${jobName}: ${o.rate} requests/s for ${o.durationSeconds}s to ${url}`)
  const jobPods = `job-name=${jobName}`
  await wait(`the load Job ${jobName} to start`, async () => loadStarted(await cluster.listPods(namespace, jobPods)))
  return {
    jobName,
    ended: async () => (await cluster.readJob(namespace, jobName).then(jobState)).done,
    report: async () => {
      await wait(`the load Job ${jobName} to finish`, async () => jobState(await cluster.readJob(namespace, jobName)))
      const pod = (await cluster.listPods(namespace, jobPods))[0]
      if (pod === undefined) throw new Error(`the load Job ${jobName} has no Pod to read the report from`)
      return extractReport(await cluster.readLog(namespace, pod.metadata?.name ?? '', LOAD_CONTAINER))
    },
    // A Job that is no longer waited for ends at its deadline, and its TTL removes it.
    stop: () => undefined
  }
}

/** The load from this process, after a short warm-up. */
async function startLocalLoad (o: CheckOptions, env: CheckEnv): Promise<StartedLoad> {
  const controller = new AbortController()
  let ended = false
  const running = env.runLocalLoad!({
    url: o.url!,
    rate: o.rate,
    durationMs: o.durationSeconds * 1000,
    identify: o.identify,
    signal: controller.signal
  })
  // Its failure is read by report(); until then, it must not count as unhandled.
  running.then(() => { ended = true }, () => { ended = true })
  env.log(`load from here: ${o.rate} requests/s for ${o.durationSeconds}s to ${o.url!}`)
  await env.sleep(LOCAL_WARMUP_MS)
  return { ended: async () => ended, report: async () => await running, stop: () => { controller.abort() } }
}
