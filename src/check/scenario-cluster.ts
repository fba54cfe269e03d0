/**
 * The cluster side of `lameduck check --scenario evict`: cluster.ts's calls, and the Eviction API
 * (POST pods/NAME/eviction, policy/v1), whose 429 (a PodDisruptionBudget allows no disruption now)
 * and 404 (the Pod is already gone) are answers, not failures.
 */
import { ApiException, CoreV1Api } from '@kubernetes/client-node'
import { explain, loadKubeConfig } from '../common/cluster.js'
import { connectCheckCluster } from './cluster.js'
import type { CheckCluster } from './run.js'
import type { EvictionOutcome, ScenarioCluster } from './scenario.js'

/** A CheckCluster that can also evict, for the kubeconfig's current context. */
export function connectScenarioCluster (kubeconfig: string | undefined): CheckCluster & Pick<Required<ScenarioCluster>, 'evictPod'> {
  const cluster = connectCheckCluster(kubeconfig)
  const core = loadKubeConfig({ kubeconfig, context: undefined }).makeApiClient(CoreV1Api)
  return {
    ...cluster,
    async evictPod (namespace, name): Promise<EvictionOutcome> {
      try {
        await core.createNamespacedPodEviction({ namespace, name, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { namespace, name } } })
        return 'evicted'
      } catch (err) {
        if (err instanceof ApiException && err.code === 429) return 'blocked'
        if (err instanceof ApiException && err.code === 404) return 'gone'
        throw explain(err, `evicting Pod ${namespace}/${name}`, cluster.server)
      }
    }
  }
}
