/**
 * What each scenario does to the Deployment `web` under load, the way the real thing does it:
 * `kubectl rollout restart` (rollout, nginx), `kubectl scale --replicas=1` (an HPA scaling in: the
 * ReplicaSet controller deletes the rest), the Eviction API (policy/v1) for each Pod in turn, a
 * 429 from the PodDisruptionBudget meaning "wait and try again" as `kubectl drain` and Karpenter
 * read it, `kubectl drain` itself of the node holding the Pods, and a node lost at once.
 * Resolves once the Deployment is complete again; the caller waits for the old Pods to exit.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node'
import type { Cluster } from '../control-plane/cluster.js'
import type { Scenario } from './scenarios.js'
import { kubectl } from './workloads.js'

type Log = (line: string) => void

/** How often an eviction refused by the budget is tried again. */
const EVICTION_RETRY_MS = 500

/** The HTTP status of a client-node error, if it has one. */
const statusOf = (err: unknown): number | undefined => (err as { code?: unknown }).code as number | undefined

/** Evicts `pod` through the Eviction API, retrying while its budget says 429; false if it was already gone. */
export async function evict (
  core: CoreV1Api,
  namespace: string,
  pod: string,
  log: (line: string) => void,
  deadlineMs = Date.now() + 180_000
): Promise<boolean> {
  let waited = false
  for (;;) {
    try {
      await core.createNamespacedPodEviction({
        name: pod,
        namespace,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } }
      })
      return true
    } catch (err) {
      const status = statusOf(err)
      if (status === 404) return false
      if (status !== 429)
        throw new Error(`evicting ${namespace}/${pod}: ${err instanceof Error ? err.message : String(err)}`)
      if (Date.now() > deadlineMs)
        throw new Error(`evicting ${namespace}/${pod}: the PodDisruptionBudget still refused it (429) after 180 s`)
      if (!waited)
        log(
          `eviction of ${pod}: 429, the PodDisruptionBudget allows no disruption now; trying again every ${EVICTION_RETRY_MS} ms`
        )
      waited = true
      await sleep(EVICTION_RETRY_MS)
    }
  }
}

/**
 * `kubectl drain` of `node`, as an operator or a node upgrade runs it: cordon, then every Pod evicted
 * (the PodDisruptionBudgets honoured, kubectl retrying a refused eviction every 5 s) and waited for;
 * then the node is uncordoned for what comes next.
 */
async function drain (cluster: Cluster, node: string, log: (line: string) => void): Promise<void> {
  log(`kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data`)
  const args = ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=300s']
  const out = await kubectl(cluster, args, undefined, 320_000)
  for (const line of out.trim().split('\n').filter(line => /evicted|drained/.test(line))) log(`  ${line}`)
  await kubectl(cluster, ['uncordon', node])
  log(`kubectl uncordon ${node}`)
}

/**
 * `node` is lost (Cluster.loseNode), then the control plane must notice: resolves once every Pod of
 * `web` on it has been evicted (the not-ready and unreachable taints' tolerations ran out) and the
 * Deployment has its replicas again elsewhere.
 */
async function loseNode (cluster: Cluster, core: CoreV1Api, namespace: string, node: string, log: Log): Promise<void> {
  await cluster.loseNode(node)
  log(`node ${node} lost: its network silent, its kubelet, containerd and Pods killed (SIGKILL)`)
  const deadline = Date.now() + 300_000
  for (;;) {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items
    const there = pods.filter(pod => pod.spec?.nodeName === node)
    if (there.every(pod => pod.metadata?.deletionTimestamp !== undefined)) break
    if (Date.now() > deadline) throw new Error(`the Pods on the lost node ${node} were not evicted within 300 s`)
    await sleep(500)
  }
  log(`the Pods on ${node} were evicted (their tolerations of the unreachable taint ran out)`)
}

/** Carries out `scenario` on deployment/web in `namespace`; `node` is the node drained or lost. */
export async function disrupt (
  cluster: Cluster, core: CoreV1Api, scenario: Scenario, namespace: string, log: Log, node?: string
): Promise<void> {
  if ((scenario === 'drain' || scenario === 'node-loss') && node === undefined) {
    throw new Error(`the ${scenario} scenario needs the node to take away`)
  }
  if (scenario === 'drain') {
    await drain(cluster, node!, log)
  } else if (scenario === 'node-loss') {
    await loseNode(cluster, core, namespace, node!, log)
  } else if (scenario === 'scale-in') {
    log(`kubectl scale deployment/web --replicas=1 -n ${namespace}`)
    await kubectl(cluster, ['scale', 'deployment/web', '--replicas=1', '-n', namespace])
  } else if (scenario === 'evict') {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items
      .filter((pod: V1Pod) => pod.metadata?.deletionTimestamp === undefined)
      .map(pod => pod.metadata?.name ?? '')
    for (const pod of pods) {
      const evicted = await evict(core, namespace, pod, log)
      log(evicted ? `evicted ${pod} (POST pods/${pod}/eviction, policy/v1)` : `${pod} was already gone`)
    }
  } else {
    log(`kubectl rollout restart deployment/web -n ${namespace}`)
    await kubectl(cluster, ['rollout', 'restart', 'deployment/web', '-n', namespace])
  }
  await kubectl(cluster, ['rollout', 'status', 'deployment/web', '-n', namespace, '--timeout=300s'])
}
