/**
 * A namespace a test can create Pods in at once. The controller manager gives each new namespace
 * its `default` ServiceAccount a moment after creation; until then the ServiceAccount admission
 * plugin rejects Pods (`serviceaccount "default" not found`). Controllers retry, but a test's own
 * `kubectl create pod` does not.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from './cluster.js'

/** Waits until `namespace` has its `default` ServiceAccount. */
export async function waitForDefaultServiceAccount (
  cluster: Cluster,
  namespace: string,
  timeoutMs = 30_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const result = await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', namespace, '-o', 'name'])
    if (result.code === 0) return
    if (Date.now() > deadline)
      throw new Error(
        `namespace ${namespace} has no default ServiceAccount after ${timeoutMs} ms: ${result.stderr.trim()}`
      )
    await sleep(100)
  }
}

/** Creates `name` with `labels` and waits until Pods can be created in it. */
export async function createNamespace (
  cluster: Cluster,
  name: string,
  labels: Record<string, string> = {}
): Promise<void> {
  const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } })
  const result = await cluster.kubectl(['create', '-f', '-'], { input: manifest })
  if (result.code !== 0) throw new Error(`creating namespace ${name}: ${result.stderr.trim()}`)
  await waitForDefaultServiceAccount(cluster, name)
}
