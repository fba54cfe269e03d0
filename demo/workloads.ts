/**
 * The demo's objects in the API server: the namespace `shop` that opts in (label and annotations),
 * a namespace that does not, the dry run that shows the injection, and in each the sample app: a
 * ConfigMap with demo/sample-app.ts, a Deployment that runs it with the Node of lameduck's own image
 * on the node, and a Service in front of it. The Pods are exactly what the API server stored after
 * every admission plugin and webhook ran, and the real kubelet runs them.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from '../control-plane/cluster.js'
import { createNamespace } from '../control-plane/namespaces.js'
import { repoRoot } from '../control-plane/paths.js'
import { LAMEDUCK_IMAGE } from '../control-plane/images/lameduck-image.js'
import { BUDGET_ANNOTATION, INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION, SLEEP_ANNOTATION } from '../src/admission/keys.js'
import type { StoredPod } from './plan.js'
import { podView, type PodLike } from './pod-view.js'

/** The namespace that opts in, and the one that does not. */
export const SHOP = 'shop'
export const PLAIN = 'plain'
/** The sample app's port, by name in the Service and the EndpointSlices. */
export const APP_PORT = { name: 'http', port: 8080 }

/** `kubectl ARGS`, its stdout; throws with kubectl's stderr on a non-zero exit. Slow waits get a longer limit. */
export async function kubectl (cluster: Cluster, args: string[], input?: string, timeoutMs = 240_000): Promise<string> {
  const result = await cluster.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs })
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

/** The sample app's Pod template: Node from lameduck's image runs the script from the ConfigMap. */
function podTemplate (): { metadata: object, spec: object } {
  return {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [{
        name: 'web',
        image: LAMEDUCK_IMAGE,
        imagePullPolicy: 'Never',
        command: ['node', '/sample/sample-app.ts'],
        env: [{ name: 'PORT', value: String(APP_PORT.port) }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        ports: [{ name: APP_PORT.name, containerPort: APP_PORT.port }],
        readinessProbe: { httpGet: { path: '/ready', port: APP_PORT.name }, periodSeconds: 1, failureThreshold: 1 },
        volumeMounts: [{ name: 'sample', mountPath: '/sample', readOnly: true }]
      }],
      volumes: [{ name: 'sample', configMap: { name: 'sample-app' } }]
    }
  }
}

/** Creates `plain` and `shop`; `shop` opts in with the given pause and budget, in seconds. */
export async function createNamespaces (cluster: Cluster, sleepSeconds: number, budgetSeconds: number, log: (line: string) => void): Promise<void> {
  await createNamespace(cluster, PLAIN)
  await createNamespace(cluster, SHOP, { [INJECT_LABEL]: INJECT_ENABLED })
  await kubectl(cluster, ['annotate', 'namespace', SHOP, `${SLEEP_ANNOTATION}=${sleepSeconds}s`, `${BUDGET_ANNOTATION}=${budgetSeconds}s`])
  log(`namespace ${PLAIN}: no label`)
  log(`namespace ${SHOP}: label ${INJECT_LABEL}=${INJECT_ENABLED}, annotations ${SLEEP_ANNOTATION}=${sleepSeconds}s ${BUDGET_ANNOTATION}=${budgetSeconds}s`)
}

/**
 * `kubectl create --dry-run=server -o yaml` of a Pod in `shop`, trimmed, with kubectl's warnings;
 * retried until the mutation shows, since the API server loads a new webhook configuration after a
 * short lag.
 */
export async function dryRunInShop (cluster: Cluster): Promise<{ view: string, warnings: string }> {
  const { metadata, spec } = podTemplate()
  const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, name: 'web' }, spec })
  const deadline = Date.now() + 60_000
  for (;;) {
    const result = await cluster.kubectl(['create', '--dry-run=server', '-o', 'json', '-n', SHOP, '-f', '-'], { input: pod })
    const created = result.code === 0 ? JSON.parse(result.stdout) as PodLike : undefined
    if (created?.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined) return { view: podView(created), warnings: result.stderr.trim() }
    if (Date.now() > deadline) throw new Error(`the webhook did not mutate a dry-run Pod in ${SHOP} within 60 s: ${result.stderr.trim()}`)
    await sleep(250)
  }
}

/** The sample app in `namespace`: ConfigMap, Deployment `web` with `replicas`, Service `web`; resolves with its Pods as stored, once Ready. */
export async function deployAndReadPods (cluster: Cluster, namespace: string, replicas: number): Promise<StoredPod[]> {
  const script = await readFile(join(repoRoot, 'demo/sample-app.ts'), 'utf8')
  const objects = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sample-app', namespace }, data: { 'sample-app.ts': script } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: podTemplate() }
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace }, spec: { selector: { app: 'web' }, ports: [{ name: APP_PORT.name, port: 80, targetPort: APP_PORT.name }] } }
  ]
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
  await kubectl(cluster, ['rollout', 'status', '-n', namespace, 'deployment/web', '--timeout=180s'])
  const list = JSON.parse(await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json'])) as { items: StoredPod[] }
  return list.items
}
