/**
 * Shared by the node tests (test/node/): one cluster with a real node per test file, with lameduck's
 * image (built from the Dockerfile) pushed to the node's registry, and small helpers for Pods that
 * run to completion.
 */
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensureBinaries, startCluster, type Cluster } from '../../control-plane/cluster.js'
import { ensureLameduckImage, LAMEDUCK_IMAGE } from '../../control-plane/images/lameduck-image.js'
import { pushImage } from '../../control-plane/images/push.js'
import { kubectl, until } from './e2e.js'

/**
 * The file's cluster with a node, and lameduck's image in its registry as `lameduck:0.1.0` (the
 * name of manifests/ and the demo's sample app), stopped at teardown. The first build of the
 * binaries and of the image may take a while: that wait gets its own long timeout.
 */
export async function nodeClusterFor (t: Test, timeoutMs: number): Promise<Cluster> {
  t.setTimeout(60 * 60_000)
  const log = (line: string): void => { t.comment(line) }
  await ensureBinaries({ log, node: true })
  const image = await ensureLameduckImage(log)
  t.setTimeout(timeoutMs)
  const cluster = await startCluster({ log, node: true })
  t.teardown(() => cluster.stop())
  const started = Date.now()
  await pushImage(image, LAMEDUCK_IMAGE, { address: cluster.node!.registry, ca: cluster.node!.registryCa })
  t.comment(`lameduck's image pushed to the node's registry in ${Date.now() - started} ms`)
  return cluster
}

/** A Pod that runs `command` once in `image` (restartPolicy Never); resolves with its phase and log. */
export async function runOnce (cluster: Cluster, namespace: string, name: string, image: string, command: string[], timeoutMs = 60_000): Promise<{ phase: string, log: string }> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, command }] }
  }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(pod))
  const phase = await until(`Pod ${namespace}/${name} to finish`, async () => {
    const { stdout } = await kubectl(cluster, ['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status.phase}'])
    return stdout === 'Succeeded' || stdout === 'Failed' ? stdout : undefined
  }, timeoutMs)
  // The kubelet may still be writing the last lines.
  await sleep(200)
  const log = (await cluster.kubectl(['logs', name, '-n', namespace])).stdout
  return { phase, log }
}
