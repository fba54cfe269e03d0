/**
 * The cluster side of `lameduck check`, over the small API client (src/kube/), as serve and certs
 * use it: read the Deployment and Service, create the load Job, patch the restart, list and watch
 * Pods, watch EndpointSlices, read the load Pod's log, list the namespace's Events, and evict (POST
 * pods/NAME/eviction, policy/v1), whose 429 (a PodDisruptionBudget allows no disruption now) and 404 (the Pod is
 * already gone) are answers, not failures. Every failure is one line saying what was being done and
 * what the API server (or the network) said (src/kube/errors.ts). The objects are the API server's
 * JSON as sent: client-node's types name their shape, but a timestamp is a string, not a Date.
 */
import type { CoreV1Event, V1Deployment, V1Job, V1Pod, V1Service } from '@kubernetes/client-node'
import { connectKube } from '../kube/connect.js'
import type { KubeTarget } from '../kube/access.js'
import type { KubeClient } from '../kube/client.js'
import { explain, statusOf } from '../kube/errors.js'
import type { CheckCluster } from './run.js'
import type { EvictionOutcome, ScenarioCluster } from './scenario.js'

/** What `lameduck check` needs of a cluster: every call of a check, and evictions for `--scenario evict`. */
export type CheckClusterApi = CheckCluster & Pick<Required<ScenarioCluster>, 'evictPod'>

const segment = encodeURIComponent
const namespaced = (group: string, namespace: string, kind: string, name?: string): string =>
  `${group}/namespaces/${segment(namespace)}/${kind}${name === undefined ? '' : `/${segment(name)}`}`
const APPS = '/apis/apps/v1'
const BATCH = '/apis/batch/v1'
const CORE = '/api/v1'

/** A CheckClusterApi over `kube`; it is closed with `close()`. */
export function checkClusterOver (kube: KubeClient): CheckClusterApi & { close (): Promise<void> } {
  const server = kube.server
  /** The call `fn`, its failure worded as one line saying `what` was being done. */
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw explain(err, what, server)
    }
  }
  const get = async <T>(what: string, path: string): Promise<T> =>
    await call(what, async () => await kube.request<T>('GET', path))
  const deployment = (namespace: string, name: string): string => namespaced(APPS, namespace, 'deployments', name)
  const pods = (namespace: string, name?: string): string => namespaced(CORE, namespace, 'pods', name)
  return {
    server,
    readDeployment: async (namespace, name) =>
      await get<V1Deployment>(`reading deployment ${namespace}/${name}`, deployment(namespace, name)),
    readService: async (namespace, name) =>
      await get<V1Service>(`reading Service ${namespace}/${name}`, namespaced(CORE, namespace, 'services', name)),
    createJob: async (namespace, body) => {
      const path = namespaced(BATCH, namespace, 'jobs')
      const what = `creating the load Job in ${namespace}`
      const job = await call(what, async () => await kube.request<V1Job>('POST', path, body))
      return job.metadata?.name ?? ''
    },
    readJob: async (namespace, name) =>
      await get<V1Job>(`reading Job ${namespace}/${name}`, namespaced(BATCH, namespace, 'jobs', name)),
    listPods: async (namespace, labelSelector) => {
      const path = `${pods(namespace)}?labelSelector=${segment(labelSelector)}`
      return (await get<{ items: V1Pod[] }>(`listing Pods in ${namespace} (${labelSelector})`, path)).items
    },
    // Merge patch: it creates the template's annotations when there are none, as kubectl's does.
    patchDeployment: async (namespace, name, body) => await call(`patching deployment ${namespace}/${name}`, async () =>
      await kube.request<V1Deployment>('PATCH', deployment(namespace, name), body, 'application/merge-patch+json')),
    readLog: async (namespace, name, container) => await call(`reading the log of Pod ${namespace}/${name}`, async () =>
      await kube.text(`${pods(namespace, name)}/log?container=${segment(container)}`)),
    listEvents: async namespace => {
      const path = namespaced(CORE, namespace, 'events')
      return (await get<{ items: CoreV1Event[] }>(`listing the events in ${namespace}`, path)).items
    },
    watch: async (path, labelSelector, onEvent, onEnd) => await watch(kube, path, labelSelector, onEvent, onEnd),
    evictPod: async (namespace, name) => await evict(kube, namespace, name),
    close: async () => { await kube.close() }
  }
}

/** Evicts a Pod: 'blocked' when a PodDisruptionBudget refuses now (429), 'gone' when it is no more (404). */
async function evict (kube: KubeClient, namespace: string, name: string): Promise<EvictionOutcome> {
  const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { namespace, name } }
  try {
    await kube.request('POST', `${namespaced(CORE, namespace, 'pods', name)}/eviction`, body)
    return 'evicted'
  } catch (err) {
    if (statusOf(err) === 429) return 'blocked'
    if (statusOf(err) === 404) return 'gone'
    throw explain(err, `evicting Pod ${namespace}/${name}`, kube.server)
  }
}

/**
 * Watches `path` for objects that match `labelSelector` (those that exist come first, as ADDED: no
 * resourceVersion is given). An ERROR event (a Status: the watch is over, e.g. 410 Gone) ends it
 * with the Status's message; a stop asked for is not an end to report.
 */
async function watch (kube: KubeClient, path: string, labelSelector: string,
  onEvent: (type: string, object: unknown) => void, onEnd: (err: Error | undefined) => void): Promise<() => void> {
  const what = `watching ${path}`
  const controller = new AbortController()
  const end = (err: Error | undefined): void => {
    if (controller.signal.aborted) return
    controller.abort()
    onEnd(err)
  }
  const deliver = (event: { type: string, object: Record<string, unknown> }): void => {
    const { type, object } = event
    if (type !== 'ERROR') onEvent(type, object)
    else end(new Error(`${what}: ${typeof object.message === 'string' ? object.message : 'the API server ended it'}`))
  }
  const query = `?watch=true&labelSelector=${segment(labelSelector)}`
  const open = await kube.watch(`${path}${query}`, deliver, controller.signal).catch((err: unknown) => {
    throw explain(err, `${what} (${labelSelector})`, kube.server)
  })
  open.ended.then(() => { end(undefined) }, (err: unknown) => { end(explain(err, what, kube.server)) })
  return () => { controller.abort() }
}

/** The CheckClusterApi for `target`: its kubeconfig (or the default search), at its context. */
export async function connectCheckCluster (target: KubeTarget): Promise<CheckClusterApi & { close (): Promise<void> }> {
  return checkClusterOver(await connectKube(target))
}
