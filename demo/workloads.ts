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
import { NGINX_IMAGE } from '../control-plane/images/nginx-image.js'
import { BUDGET_ANNOTATION, INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION, SLEEP_ANNOTATION } from '../src/admission/keys.js'
import type { StoredPod } from './plan.js'
import { scenarioObjects } from './scenario-objects.js'
import type { Scenario } from './scenarios.js'
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

/** The sample app's Pod template (label `app`): Node from lameduck's image runs the script from the ConfigMap. */
export function podTemplate (app = 'web'): { metadata: object, spec: object } {
  return {
    metadata: { labels: { app } },
    spec: {
      containers: [{
        name: 'web',
        image: LAMEDUCK_IMAGE,
        command: ['node', '/sample/sample-app.ts'],
        env: [{ name: 'PORT', value: String(APP_PORT.port) }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        ports: [{ name: APP_PORT.name, containerPort: APP_PORT.port }],
        // A Pod that is deleted leaves its endpoints at once whatever the probe says; three misses in a
        // row, not one slow answer on a busy machine, take a serving replica out (a drain once had its
        // only ready replica marked unready for a second, and 17 requests refused).
        readinessProbe: {
          httpGet: { path: '/ready', port: APP_PORT.name }, periodSeconds: 1, failureThreshold: 3, timeoutSeconds: 2
        },
        volumeMounts: [{ name: 'sample', mountPath: '/sample', readOnly: true }]
      }],
      volumes: [{ name: 'sample', configMap: { name: 'sample-app' } }]
    }
  }
}

/** Creates `plain` and `shop`; `shop` opts in with the given pause and budget, in seconds. */
export async function createNamespaces (
  cluster: Cluster,
  sleepSeconds: number,
  budgetSeconds: number,
  log: (line: string) => void
): Promise<void> {
  await createNamespace(cluster, PLAIN)
  await createNamespace(cluster, SHOP, { [INJECT_LABEL]: INJECT_ENABLED })
  await kubectl(cluster, [
    'annotate',
    'namespace',
    SHOP,
    `${SLEEP_ANNOTATION}=${sleepSeconds}s`,
    `${BUDGET_ANNOTATION}=${budgetSeconds}s`
  ])
  log(`namespace ${PLAIN}: no label`)
  log(
    `namespace ${SHOP}: label ${INJECT_LABEL}=${INJECT_ENABLED}, annotations ${SLEEP_ANNOTATION}=${sleepSeconds}s ${BUDGET_ANNOTATION}=${budgetSeconds}s`
  )
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
    if (created?.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined)
      return { view: podView(created), warnings: result.stderr.trim() }
    if (Date.now() > deadline) throw new Error(`the webhook did not mutate a dry-run Pod in ${SHOP} within 60 s: ${result.stderr.trim()}`)
    await sleep(250)
  }
}

/** What `deployAndReadPods` deploys besides the namespace: see scenario-objects.ts. */
export interface DeployOptions {
  scenario: Scenario
  replicas: number
  sleepSeconds: number
  nginxBudgetSeconds: number
}

/**
 * The scenario's objects in `namespace` (the Deployment `web` and its Service, and what the scenario
 * adds); resolves with `web`'s Pods as stored, once every Deployment is Ready.
 */
export async function deployAndReadPods (cluster: Cluster, namespace: string, o: DeployOptions): Promise<StoredPod[]> {
  const script = await readFile(join(repoRoot, 'demo/sample-app.ts'), 'utf8')
  const objects = scenarioObjects(
    o.scenario,
    {
      namespace,
      replicas: o.replicas,
      script,
      appTemplate: podTemplate,
      nginxImage: NGINX_IMAGE,
      sleepSeconds: o.sleepSeconds,
      nginxBudgetSeconds: o.nginxBudgetSeconds
    },
    namespace === SHOP
  )
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
  for (const name of o.scenario === 'nginx' ? ['backend', 'web'] : ['web']) await kubectl(cluster, ['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s'])
  const list = JSON.parse(await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json'])) as { items: StoredPod[] }
  return list.items
}

/**
 * Removes what a scenario deployed in `namespace` and waits until its Pods are gone, so that the
 * next scenario starts from nothing (and no Pod of this one is still shutting down in its timeline).
 */
export async function removeScenario (cluster: Cluster, namespace: string): Promise<void> {
  await kubectl(cluster, ['delete', '-n', namespace, 'deployment/web', 'deployment/backend', 'poddisruptionbudget/web', 'configmap/sample-app', 'configmap/nginx', '--ignore-not-found'])
  const deadline = Date.now() + 120_000
  while ((await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app in (web,backend)', '-o', 'name'])).trim() !== '') {
    if (Date.now() > deadline) throw new Error(`the Pods of the last scenario in ${namespace} were still there 120 s after their Deployments were deleted`)
    await sleep(500)
  }
}
