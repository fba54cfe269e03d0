/**
 * A real local control plane for e2e tests and the demo: etcd, kube-apiserver and
 * kube-controller-manager on free loopback ports, in a fresh directory, with a kubeconfig for the
 * built kubectl. Without nodes there is no kubelet and no scheduler: Pods are created and stay
 * Pending. With `nodes: N` (or `node: true`, one; root only) real nodes join it (node/), and the API
 * server listens on the bridge's gateway instead of loopback, so that Pods reach it too.
 *
 *   const cluster = await startCluster()
 *   await cluster.kubectl(['create', 'namespace', 'demo'])
 *   await cluster.stop()
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBinaries } from './build.js'
import { lifecycleOf, startControlPlane } from './control-plane-start.js'
import { prepareDir, removeDir } from './dirs.js'
import { repoRoot } from './paths.js'
import type { Component } from './processes.js'
import { NODE, type NodeLifecycle } from './node/config.js'
import { prepareMachine, saveNodesState, startNodes, stopNodes, type NodesState } from './node/nodes.js'
import { makeCluster, orphans, stopAll, type Cluster } from './cluster-handle.js'

export { ensureBinaries }
export type { Cluster, ClusterNode } from './cluster-handle.js'

/** Options for `startCluster`. */
export interface StartOptions {
  /** Where data, logs and the kubeconfig go; default a new temporary directory, removed by `stop()`. */
  dir?: string
  log?: (line: string) => void
  /** Start the processes in their own process group so they outlive this process (the CLI's `cluster:up`). */
  detached?: boolean
  /** One node: the same as `nodes: 1`. */
  node?: boolean
  /**
   * Real nodes: scheduler, cluster DNS, and per node a kubelet, containerd, CNI and kube-proxy in its
   * own network namespace (root only; one such cluster per machine).
   */
  nodes?: number
  /** How fast the control plane gives up on a node that stops answering; Kubernetes' defaults (50 s, 300 s) without. */
  nodeLifecycle?: NodeLifecycle
  /** The process whose exit stops the nodes (node/janitor.ts watches it): default this one; not with `detached`. */
  ownerPid?: number
}

/** How many nodes `opts` asks for; throws for a count that is not a whole number from 0 to 10. */
function nodeCount (opts: StartOptions): number {
  const count = opts.nodes ?? (opts.node === true ? 1 : 0)
  if (!Number.isInteger(count) || count < 0 || count > 10) {
    throw new Error(`startCluster: nodes must be a whole number from 0 to 10, not ${count}`)
  }
  return count
}

/**
 * Starts etcd, then kube-apiserver (waits for /readyz), then kube-controller-manager (waits for the
 * `default` ServiceAccount), then the nodes. A port taken between finding it free and binding it
 * (another cluster starting in parallel) gets a fresh set of ports and another try.
 */
export async function startCluster (opts: StartOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {})
  const nodes = nodeCount(opts)
  const { version } = await ensureBinaries({ log, node: nodes > 0 })
  for (let attempt = 1; ; attempt++) {
    const { dir, owned } = await prepareDir(opts.dir)
    try {
      return await startOnce({ dir, owned, version, nodes, opts, log })
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err
      log(`[cluster] a port was taken meanwhile; retrying with new ports (${String(err).split('\n')[0]})`)
      if (owned) await removeDir(dir)
    }
  }
}

/** Starts the janitor that stops the nodes if `state.owner` dies without stopping them. */
function startJanitor (state: NodesState): number {
  const fd = openSync(join(state.dir, 'janitor.log'), 'a')
  try {
    const args = ['--import', import.meta.resolve('tsx'), join(repoRoot, 'control-plane/node/janitor.ts'), state.dir]
    const child = spawn(process.execPath, args, { cwd: state.dir, stdio: ['ignore', fd, fd], detached: true })
    child.unref()
    return child.pid!
  } finally {
    closeSync(fd)
  }
}

interface StartOnce {
  dir: string
  owned: boolean
  version: string
  nodes: number
  opts: StartOptions
  log: (line: string) => void
}

async function startOnce ({ dir, owned, version, nodes, opts, log }: StartOnce): Promise<Cluster> {
  const started = Date.now()
  const step = (what: string): void => { log(`[cluster] ${what} (${Date.now() - started} ms)`) }
  const detached = opts.detached ?? false
  const components: Component[] = []
  const lifecycle = nodes > 0 ? opts.nodeLifecycle : undefined
  let machine: NodesState | undefined
  const record = async (): Promise<void> => {
    if (machine === undefined) return
    machine.controlPlane = components.map(c => c.pid)
    await saveNodesState(machine)
  }
  try {
    if (nodes > 0) {
      const owner = opts.ownerPid ?? process.pid
      machine = await prepareMachine({ dir, owner, owned, ...lifecycleOf(lifecycle), log })
      if (!detached) machine.janitor = startJanitor(machine)
      await record()
      const janitor = detached ? '' : `, janitor ${machine.janitor}`
      step(`machine prepared: bridge ${NODE.bridge} ${NODE.gateway}, guard rules${janitor}`)
    }
    const spawnOpts = { dir, detached }
    const api = await startControlPlane({ dir, nodes, lifecycle, spawnOpts, components, record, step })
    if (machine !== undefined) {
      await startNodes(machine, nodes, { api, detached, log })
      if (!detached) for (const { pid } of [...machine.pids, ...machine.nodes.flatMap(n => n.pids)]) orphans.add(pid)
    }
    const { kubeconfigPath, server } = api
    return makeCluster({ dir, owned, kubeconfigPath, server, version, components, machine, api, detached, log })
  } catch (err) {
    // The directory stays, with the logs the error points to.
    const say = (e: unknown): void => { log(`[node] ${(e as Error).message}`) }
    if (machine !== undefined) await stopNodes(machine, log).catch(say)
    await stopAll(components.map((c) => c.pid))
    throw err
  }
}
