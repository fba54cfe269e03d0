/**
 * The cluster side of `lameduck check`, over @kubernetes/client-node (1.4): read the Deployment and
 * Service, create the load Job, patch the restart, list and watch Pods, watch EndpointSlices, read
 * the load Pod's log. Every failure
 * is one line saying what was being done and what the API server (or the network) said.
 */
import http from 'node:http'
import https from 'node:https'
import {
  ApiException, AppsV1Api, BatchV1Api, CoreV1Api, PatchStrategy, Watch, setHeaderOptions, type CoreV1EventList, type KubeConfig
} from '@kubernetes/client-node'
import { explain, loadKubeConfig } from '../common/cluster.js'
import type { CheckCluster } from './run.js'

/**
 * GET a Pod's log as text. Not client-node's readNamespacedPodLog: it throws on the API server's
 * 204 No Content for an empty log ("Cannot parse content. No Content-Type defined."), which is
 * what a Pod that never ran has. A status other than 200 or 204 becomes an ApiException, as a
 * generated call's would, so `explain` quotes the API server's Status.
 */
async function getLog (config: KubeConfig, server: string, namespace: string, pod: string, container: string): Promise<string> {
  const url = new URL(`${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?container=${encodeURIComponent(container)}`)
  const options: https.RequestOptions = { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: {} }
  await config.applyToHTTPSOptions(options)
  return await new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(options, response => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => {
        const status = response.statusCode!
        if (status === 200 || status === 204) resolve(body)
        else reject(new ApiException(status, 'reading a Pod log', body, response.headers as Record<string, string>))
      }).on('error', reject)
    })
    request.on('error', reject).end()
  })
}

/** A CheckCluster for the kubeconfig's current context. */
export function connectCheckCluster (kubeconfig: string | undefined): CheckCluster {
  const config = loadKubeConfig({ kubeconfig, context: undefined })
  const server = config.getCurrentCluster()!.server
  const apps = config.makeApiClient(AppsV1Api)
  const batch = config.makeApiClient(BatchV1Api)
  const core = config.makeApiClient(CoreV1Api)
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw explain(err, what, server)
    }
  }
  // Merge patch: it creates the template's annotations when there are none, as kubectl's does.
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
  return {
    server,
    readDeployment: async (namespace, name) => await call(`reading deployment ${namespace}/${name}`, async () => await apps.readNamespacedDeployment({ namespace, name })),
    readService: async (namespace, name) => await call(`reading Service ${namespace}/${name}`, async () => await core.readNamespacedService({ namespace, name })),
    createJob: async (namespace, body) => {
      const job = await call(`creating the load Job in ${namespace}`, async () => await batch.createNamespacedJob({ namespace, body }))
      return job.metadata!.name!
    },
    readJob: async (namespace, name) => await call(`reading Job ${namespace}/${name}`, async () => await batch.readNamespacedJob({ namespace, name })),
    listPods: async (namespace, labelSelector) => (await call(`listing Pods in ${namespace} (${labelSelector})`, async () => await core.listNamespacedPod({ namespace, labelSelector }))).items,
    patchDeployment: async (namespace, name, body) => await call(`patching deployment ${namespace}/${name}`, async () => await apps.patchNamespacedDeployment({ namespace, name, body }, mergePatch)),
    readLog: async (namespace, name, container) => await call(`reading the log of Pod ${namespace}/${name}`, async () => await getLog(config, server, namespace, name, container)),
    listEvents: async namespace => {
      const list = async (): Promise<CoreV1EventList> => await core.listNamespacedEvent({ namespace })
      return (await call(`listing the events in ${namespace}`, list)).items
    },
    watch: async (path, labelSelector, onEvent, onEnd) => {
      const controller = await call(`watching ${path} (${labelSelector})`, async () => await new Watch(config).watch(path, { labelSelector }, onEvent, (err: unknown) => { onEnd(err === null || err === undefined ? undefined : explain(err, `watching ${path}`, server)) }))
      return () => { controller.abort() }
    }
  }
}
