/**
 * What each scenario does to the Deployment `web` under load, the way the real thing does it:
 * `kubectl rollout restart` (rollout, nginx), `kubectl scale --replicas=1` (an HPA scaling in: the
 * ReplicaSet controller deletes the rest), and the Eviction API (policy/v1) for each Pod in turn, a
 * 429 from the PodDisruptionBudget meaning "wait and try again" as `kubectl drain` and Karpenter
 * read it. Resolves once the Deployment is complete again; the caller waits for the old Pods to exit.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node'
import type { Cluster } from '../control-plane/cluster.js'
import type { Scenario } from './scenarios.js'
import { kubectl } from './workloads.js'

/** How often an eviction refused by the budget is tried again. */
const EVICTION_RETRY_MS = 500

/** The HTTP status of a client-node error, if it has one. */
const statusOf = (err: unknown): number | undefined => (err as { code?: unknown }).code as number | undefined

/** Evicts `pod` through the Eviction API, retrying while its budget says 429; false if it was already gone. */
export async function evict (core: CoreV1Api, namespace: string, pod: string, log: (line: string) => void, deadlineMs = Date.now() + 180_000): Promise<boolean> {
  let waited = false
  for (;;) {
    try {
      await core.createNamespacedPodEviction({ name: pod, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } } })
      return true
    } catch (err) {
      const status = statusOf(err)
      if (status === 404) return false
      if (status !== 429) throw new Error(`evicting ${namespace}/${pod}: ${err instanceof Error ? err.message : String(err)}`)
      if (Date.now() > deadlineMs) throw new Error(`evicting ${namespace}/${pod}: the PodDisruptionBudget still refused it (429) after 180 s`)
      if (!waited) log(`eviction of ${pod}: 429, the PodDisruptionBudget allows no disruption now; trying again every ${EVICTION_RETRY_MS} ms`)
      waited = true
      await sleep(EVICTION_RETRY_MS)
    }
  }
}

/** Carries out `scenario` on deployment/web in `namespace`. */
export async function disrupt (cluster: Cluster, core: CoreV1Api, scenario: Scenario, namespace: string, log: (line: string) => void): Promise<void> {
  if (scenario === 'scale-in') {
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
