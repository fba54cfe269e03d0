/**
 * What test/node/nodes.test.ts puts on its two nodes and reads back: Pods and their readiness,
 * lameduck's replicas, a Deployment spread one per node with the script that reaches across, and a
 * copy of lameduck's Pod webhook under failurePolicy Fail for one namespace.
 */
import type { Cluster } from '../../control-plane/cluster.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { injected, kubectl } from './e2e.js'

/** The parts of a Pod these tests read. */
export interface PodJson {
  metadata: { name: string, deletionTimestamp?: string, annotations?: Record<string, string> }
  spec: { nodeName?: string }
  status: { podIP?: string, conditions?: Array<{ type: string, status: string }> }
}

/** The Pods of `namespace` that `selector` picks. */
export async function podsOf (cluster: Cluster, namespace: string, selector: string): Promise<PodJson[]> {
  const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])
  return (JSON.parse(stdout) as { items: PodJson[] }).items
}

/** Those that are Ready and not leaving. */
export function readyPods (pods: readonly PodJson[]): PodJson[] {
  const ready = (p: PodJson): boolean =>
    p.status.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
  return pods.filter(p => p.metadata.deletionTimestamp === undefined && ready(p))
}

/** lameduck's Ready replicas. */
export async function lameduckPods (cluster: Cluster): Promise<PodJson[]> {
  return readyPods(await podsOf(cluster, 'lameduck-system', 'app.kubernetes.io/name=lameduck'))
}

/** agnhost `web` in `default`, one Pod per node (a hard topology spread), and its Service. */
export function spreadWeb (): object {
  const labels = { app: 'web' }
  const container = {
    name: 'web', image: AGNHOST_IMAGE, args: ['netexec', '--http-port=8080'],
    ports: [{ containerPort: 8080, name: 'http' }],
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 }
  }
  const spread = {
    maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchLabels: labels }
  }
  const template = { metadata: { labels }, spec: { topologySpreadConstraints: [spread], containers: [container] } }
  const web = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: labels }, template }
  }
  const service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] }
  }
  return { apiVersion: 'v1', kind: 'List', items: [web, service] }
}

/**
 * The script a Pod runs (`node --input-type=module -e`): the Pod at `remoteIp` by its address, the
 * Service `web` 20 times (a new connection each time, which kube-proxy sends to either Pod), and the
 * API server with the Pod's ServiceAccount; prints `{ remote, names, status }`.
 */
export function reachScript (remoteIp: string): string {
  return `
    const http = await import('node:http')
    const https = await import('node:https')
    const fs = await import('node:fs')
    const get = (host, port) => new Promise((resolve, reject) => {
      http.get({ host, port, path: '/hostname', agent: false, timeout: 3000 }, res => {
        let body = ''
        res.on('data', c => { body += c })
        res.on('end', () => resolve(body))
      }).on('error', reject)
    })
    const remote = await get('${remoteIp}', 8080)
    const names = new Set()
    for (let i = 0; i < 20; i++) names.add(await get('web.default.svc', 80))
    const secrets = '/var/run/secrets/kubernetes.io/serviceaccount/'
    const ca = fs.readFileSync(secrets + 'ca.crt', 'utf8')
    const token = fs.readFileSync(secrets + 'token', 'utf8')
    const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = process.env
    const headers = { authorization: 'Bearer ' + token }
    const status = await new Promise((resolve, reject) => {
      https.get({ host, port, path: '/version', ca, servername: 'kubernetes.default.svc', headers }, res => {
        res.resume()
        resolve(res.statusCode)
      }).on('error', reject)
    })
    console.log(JSON.stringify({ remote, names: [...names].sort(), status }))`
}

type Webhook = Record<string, unknown> & { name: string }

/**
 * failurePolicy Fail for `namespace` alone: a copy of lameduck's Pod webhook (same Service, CA and
 * selectors) that selects it, in a configuration of its own, and the original told to skip it.
 */
export async function failingCopy (cluster: Cluster, namespace: string): Promise<void> {
  const { stdout } = await kubectl(cluster, ['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])
  const config = JSON.parse(stdout) as { webhooks: Webhook[] }
  const pods = config.webhooks.find(w => w.name === 'pods.lameduck.dev')!
  const selector = { matchLabels: { 'kubernetes.io/metadata.name': namespace } }
  const failing = { ...pods, name: 'pods-fail.lameduck.dev', failurePolicy: 'Fail', namespaceSelector: selector }
  const copy = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'lameduck-fail' }, webhooks: [failing]
  }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(copy))
  const excluded = `/webhooks/${config.webhooks.indexOf(pods)}/namespaceSelector/matchExpressions/0/values/-`
  const skip = { op: 'add', path: excluded, value: namespace }
  const patch = ['patch', 'mutatingwebhookconfiguration', 'lameduck', '--type=json', '-p', JSON.stringify([skip])]
  await kubectl(cluster, patch)
}

/**
 * True once a dry-run Pod in `namespace` comes back mutated (the API server loads a new webhook
 * configuration after a moment).
 */
export async function webhookAnswers (cluster: Cluster, namespace: string): Promise<true | undefined> {
  const spec = { containers: [{ name: 'web', image: AGNHOST_IMAGE }] }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec }
  const args = ['create', '--dry-run=server', '-n', namespace, '-f', '-', '-o', 'json']
  const { stdout } = await cluster.kubectl(args, { input: JSON.stringify(pod) })
  const mutated = stdout !== '' && injected(JSON.parse(stdout) as Parameters<typeof injected>[0]) !== undefined
  return mutated ? true : undefined
}
