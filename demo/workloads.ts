/**
 * The demo's objects in the API server: the namespace `shop` that opts in (label and annotations),
 * a namespace that does not, the dry run that shows the injection, and a Deployment in each whose
 * Pods the ReplicaSet controller creates, so that their specs are exactly what the API server stored
 * after every admission plugin and webhook ran.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from '../control-plane/cluster.js'
import { createNamespace } from '../control-plane/namespaces.js'
import { BUDGET_ANNOTATION, INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION, SLEEP_ANNOTATION } from '../src/admission/keys.js'
import { kubectl } from './install.js'
import type { StoredPod } from './plan.js'
import { podView, type PodLike } from './pod-view.js'

/** The namespace that opts in, and the one that does not. */
export const SHOP = 'shop'
export const PLAIN = 'plain'

/** The sample app's Pod template (the image never runs: the demo runs demo/sample-app.ts instead). */
function podTemplate (): { metadata: object, spec: object } {
  return { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/shop/web:1.0', ports: [{ containerPort: 8080 }] }] } }
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

/** Creates Deployment `web` with `replicas` in `namespace`; resolves with its Pods as stored. */
export async function deployAndReadPods (cluster: Cluster, namespace: string, replicas: number): Promise<StoredPod[]> {
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: podTemplate() }
  }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment))
  const deadline = Date.now() + 60_000
  for (;;) {
    const list = JSON.parse(await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json'])) as { items: StoredPod[] }
    if (list.items.length >= replicas) return list.items.slice(0, replicas)
    if (Date.now() > deadline) throw new Error(`the ReplicaSet controller created ${list.items.length} of ${replicas} Pods in ${namespace} within 60 s`)
    await sleep(200)
  }
}
