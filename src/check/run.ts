/**
 * `lameduck check`, the steps: start a load Job against the Service, restart the Deployment once the
 * load runs, wait for the rollout and for the old Pods to be gone, wait for the load to end, and read
 * its report from the Pod's log. The cluster and the clock are passed in, so tests drive every step.
 */
import type { V1Deployment, V1Job, V1Pod, V1Service } from '@kubernetes/client-node'
import { LOAD_CONTAINER, buildLoadJob, pickServicePort, serviceUrl } from './job.js'
import { checkRestartable, checkServiceSelectsDeployment, jobState, loadStarted, oldPodsGone, restartPatch, rolloutState, selectorString, type WaitState } from './rollout.js'
import { extractReport } from './verdict.js'
import type { JsonReport } from '../load/report.js'
import type { DisruptContext } from './scenario.js'

/** The cluster calls `runCheck` makes; each failure is an Error whose message says what was being done. */
export interface CheckCluster {
  readonly server: string
  readDeployment (namespace: string, name: string): Promise<V1Deployment>
  readService (namespace: string, name: string): Promise<V1Service>
  /** Creates the Job; resolves with the name the API server gave it. */
  createJob (namespace: string, job: V1Job): Promise<string>
  readJob (namespace: string, name: string): Promise<V1Job>
  listPods (namespace: string, labelSelector: string): Promise<V1Pod[]>
  /** Sends a merge patch; resolves with the patched Deployment. */
  patchDeployment (namespace: string, name: string, patch: object): Promise<V1Deployment>
  readLog (namespace: string, pod: string, container: string): Promise<string>
}

/** Progress lines and the clock. */
export interface CheckEnv {
  log (line: string): void
  now (): number
  sleep (ms: number): Promise<void>
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
  /** Stops the Pods another way than a restart (`--scenario`, scenario.ts). */
  disrupt?: (ctx: DisruptContext) => Promise<void>
}

/** A finished check: the Job it ran and the report it read. */
export interface CheckResult { jobName: string, report: JsonReport }

/** Runs the check; rejects with an Error that says what failed or what it was still waiting for. */
export async function runCheck (o: CheckOptions, cluster: CheckCluster, env: CheckEnv): Promise<CheckResult> {
  const deadline = env.now() + o.timeoutMs
  const { namespace } = o
  const wait = async (what: string, read: () => Promise<WaitState>): Promise<void> => {
    let last = ''
    for (;;) {
      const state = await read()
      if (state.message !== last) env.log(state.message)
      last = state.message
      if (state.done) return
      if (env.now() >= deadline) throw new Error(`timed out after ${o.timeoutMs / 1000}s waiting for ${what}: ${state.message}`)
      await env.sleep(Math.min(o.pollMs ?? 1000, Math.max(0, deadline - env.now())))
    }
  }

  const deployment = await cluster.readDeployment(namespace, o.deployment)
  checkRestartable(deployment)
  const service = await cluster.readService(namespace, o.service)
  checkServiceSelectsDeployment(service, deployment)
  const url = serviceUrl(o.service, namespace, pickServicePort(service, o.port), o.path)
  const podSelector = selectorString(deployment.spec?.selector)

  const jobName = await cluster.createJob(namespace, buildLoadJob({ namespace, deployment: o.deployment, url, rate: o.rate, durationSeconds: o.durationSeconds, image: o.image }))
  env.log(`started load Job ${namespace}/${jobName}: ${o.rate} requests/s for ${o.durationSeconds}s to ${url}`)
  const jobPods = `job-name=${jobName}`
  await wait(`the load Job ${jobName} to start`, async () => loadStarted(await cluster.listPods(namespace, jobPods)))

  if (o.disrupt !== undefined) await o.disrupt({ deployment, podSelector, wait })
  else {
    const restarted = await cluster.patchDeployment(namespace, o.deployment, restartPatch(new Date(env.now())))
    env.log(`restarted deployment ${namespace}/${o.deployment} (generation ${restarted.metadata?.generation ?? '?'})`)
    await wait(`deployment ${o.deployment} to roll out`, async () => rolloutState(await cluster.readDeployment(namespace, o.deployment)))
  }
  await wait(`the old Pods of deployment ${o.deployment} to exit`, async () => oldPodsGone(await cluster.listPods(namespace, podSelector)))
  if ((await cluster.readJob(namespace, jobName).then(jobState)).done) {
    throw new Error(`the load Job ${jobName} ended before the old Pods were gone, so it did not see the whole rollout: use a longer --duration`)
  }

  await wait(`the load Job ${jobName} to finish`, async () => jobState(await cluster.readJob(namespace, jobName)))
  const pod = (await cluster.listPods(namespace, jobPods))[0]
  if (pod === undefined) throw new Error(`the load Job ${jobName} has no Pod to read the report from`)
  const report = extractReport(await cluster.readLog(namespace, pod.metadata?.name ?? '', LOAD_CONTAINER))
  return { jobName, report }
}
