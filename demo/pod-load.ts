/**
 * The load from inside the cluster: a Job whose Pod runs `lameduck load` (lameduck's own image)
 * against the Service's cluster DNS name, so every request goes through kube-proxy's ClusterIP
 * rules, as in-cluster clients' do. The same Job `lameduck check` starts (src/check/job.ts); its
 * JSON report is the last line of its log.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from '../control-plane/cluster.js'
import { LAMEDUCK_IMAGE } from '../control-plane/images/lameduck-image.js'
import { buildLoadJob, LOAD_CONTAINER } from '../src/check/job.js'
import { extractReport } from '../src/check/verdict.js'
import type { JsonReport } from '../src/load/report.js'
import { kubectl } from './workloads.js'

/** A started load Pod. */
export interface PodLoad {
  readonly job: string
  /** performance.now() when its container was seen running: the load's start, within a poll. */
  readonly startedAt: number
  /** Waits for the Job to finish and reads the report from its log. */
  report(): Promise<JsonReport>
}

interface PodStatus { status?: { phase?: string, containerStatuses?: Array<{ state?: { running?: unknown } }> } }

/** What a load Pod does: `avoidNode` keeps it off a node a scenario drains or loses. */
export interface PodLoadOptions {
  namespace: string
  url: string
  rate: number
  durationSeconds: number
  timeoutSeconds?: number
  name?: string
  avoidNode?: string
}

/** Starts the Job against `url` and resolves once its container runs. */
export async function startPodLoad (cluster: Cluster, o: PodLoadOptions): Promise<PodLoad> {
  const job = buildLoadJob({ namespace: o.namespace, deployment: 'web', url: o.url, rate: o.rate, durationSeconds: o.durationSeconds, image: LAMEDUCK_IMAGE })
  job.metadata!.generateName = `${o.name ?? 'demo-load'}-`
  // Not on the node a scenario drains or loses: the load must outlive what it measures.
  if (o.avoidNode !== undefined) {
    const notThere = { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [o.avoidNode] }] }
    const required = { nodeSelectorTerms: [notThere] }
    job.spec!.template.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: required } }
  }
  // Slow requests need a longer per-request limit than the load's default.
  if (o.timeoutSeconds !== undefined) job.spec!.template.spec!.containers[0]!.args!.push('--timeout', `${o.timeoutSeconds}s`)
  const name = (await kubectl(cluster, ['create', '-f', '-', '-o', 'jsonpath={.metadata.name}'], JSON.stringify(job))).trim()
  const pods = async (): Promise<PodStatus[]> => (JSON.parse(await kubectl(cluster, ['get', 'pods', '-n', o.namespace, '-l', `job-name=${name}`, '-o', 'json'])) as { items: PodStatus[] }).items
  const deadline = Date.now() + 120_000
  for (;;) {
    const pod = (await pods())[0]
    if (pod?.status?.containerStatuses?.[0]?.state?.running !== undefined) break
    if (pod?.status?.phase === 'Failed' || Date.now() > deadline) throw new Error(`the load Pod of Job ${o.namespace}/${name} did not start (${pod?.status?.phase ?? 'no Pod'})`)
    await sleep(100)
  }
  const startedAt = performance.now()
  return {
    job: name,
    startedAt,
    async report () {
      for (;;) {
        const status = JSON.parse(await kubectl(cluster, ['get', 'job', '-n', o.namespace, name, '-o', 'jsonpath={.status}'])) as { succeeded?: number, failed?: number }
        if ((status.succeeded ?? 0) > 0 || (status.failed ?? 0) > 0) break
        await sleep(500)
      }
      return extractReport(await kubectl(cluster, ['logs', '-n', o.namespace, `job/${name}`, '-c', LOAD_CONTAINER]))
    }
  }
}
