/**
 * Shared by the node tests (test/node/): one cluster with a real node per test file, with lameduck's
 * image (built from the Dockerfile) pushed to the nodes' registry, and small helpers for Pods that
 * run to completion.
 */
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensureBinaries, startCluster, type Cluster, type StartOptions } from '../../control-plane/cluster.js'
import { ensureLameduckImage, LAMEDUCK_IMAGE } from '../../control-plane/images/lameduck-image.js'
import { pushImage } from '../../control-plane/images/push.js'
import { kubectl, until } from './e2e.js'

/** What a node test may choose of its cluster: how many nodes, their lifecycle, the owner. */
export type NodeStart = Omit<StartOptions, 'log' | 'node'>

/**
 * The file's cluster with a node (or `start.nodes` of them), and lameduck's image in their registry
 * as `lameduck:0.1.0` (the name of manifests/ and the demo's sample app), stopped at teardown. The
 * first build of the binaries and of the image may take a while: that wait gets its own long timeout.
 */
export async function nodeClusterFor (t: Test, timeoutMs: number, start: NodeStart = {}): Promise<Cluster> {
  t.setTimeout(60 * 60_000)
  const log = (line: string): void => { t.comment(line) }
  await ensureBinaries({ log, node: true })
  const image = await ensureLameduckImage(log)
  t.setTimeout(timeoutMs)
  // Waiting for another test's node (a machine shared by several checkouts) is not this file's time.
  const waitingLog = (line: string): void => {
    log(line)
    if (line.includes('another node runs on this machine')) t.setTimeout(timeoutMs)
  }
  const cluster = await startCluster({ log: waitingLog, nodes: 1, ...start })
  t.teardown(() => cluster.stop())
  const started = Date.now()
  await pushImage(image, LAMEDUCK_IMAGE, cluster.registry!)
  t.comment(`lameduck's image pushed to the nodes' registry in ${Date.now() - started} ms`)
  return cluster
}

/**
 * A Pod that runs `command` once in `image` (restartPolicy Never), with `spec` added (a `nodeName`,
 * say); resolves with its phase and log.
 */
export async function runOnce (
  cluster: Cluster, namespace: string, name: string, image: string, command: string[],
  timeoutMs = 60_000, spec: object = {}
): Promise<{ phase: string, log: string }> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, command }], ...spec }
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
