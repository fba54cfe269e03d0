/**
 * Where the demo's Pods run, for the scenarios with two nodes: Pods are put on a chosen node the way
 * an operator would, by cordoning the other nodes while they are created (so the Pods are ordinary
 * Pods the scheduler placed, with nothing that would stop them moving later), and found again by
 * their `spec.nodeName`.
 */
import type { Cluster } from '../control-plane/cluster.js'
import { kubectl } from './workloads.js'

/** The nodes that are not lost, by name, in the order they were started. */
export function liveNodes (cluster: Cluster): string[] {
  return cluster.nodes.filter(node => node.state.lost !== true).map(node => node.name)
}

/** Runs `create` with every other live node cordoned, so that its Pods land on `node`; uncordons them after. */
export async function withPodsOn<T> (cluster: Cluster, node: string, create: () => Promise<T>): Promise<T> {
  const others = liveNodes(cluster).filter(name => name !== node)
  if (others.length > 0) await kubectl(cluster, ['cordon', ...others])
  try {
    return await create()
  } finally {
    if (others.length > 0) await kubectl(cluster, ['uncordon', ...others])
  }
}

/** The nodes the Pods labelled `app=APP` in `namespace` run on (not the ones leaving), each once, sorted. */
export async function nodesOfApp (cluster: Cluster, namespace: string, app = 'web'): Promise<string[]> {
  type PodJson = { metadata: { deletionTimestamp?: string }, spec: { nodeName?: string } }
  const text = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json'])
  const list = JSON.parse(text) as { items: PodJson[] }
  const staying = list.items.filter(pod => pod.metadata.deletionTimestamp === undefined)
  return [...new Set(staying.map(pod => pod.spec.nodeName ?? '(unscheduled)'))].sort()
}
