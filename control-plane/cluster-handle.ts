/**
 * The handle `startCluster` returns: kubectl and helm against the cluster, its nodes (the registry
 * they all pull from, one more node, a node lost at once), and `stop()`, which stops the nodes, then the control
 * plane, by PID, and removes a temporary directory.
 */
import { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js'
import { runHelm } from './helm.js'
import { binaryPath } from './paths.js'
import { stopInReverse } from './processes.js'
import { addNode, loseNodeNamed, readNodesState, stopNodes, type NodesState } from './node/nodes.js'
import type { NodeApi, NodeState } from './node/node.js'
import { machineRegistry } from './node/machine-registry.js'
import type { RegistryEndpoint } from './images/push.js'
import { removeDir } from './dirs.js'
import type { Component } from './processes.js'

/** A running cluster. */
export interface Cluster {
  dir: string
  kubeconfigPath: string
  /** `https://127.0.0.1:PORT`, or `https://10.88.0.1:PORT` with nodes. */
  server: string
  /** The Kubernetes release, e.g. `v1.37.2`. */
  version: string
  /** etcd, kube-apiserver, kube-controller-manager. */
  pids: number[]
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>
  /** The built helm against this cluster (helm.ts); with nodes, it trusts their registry's CA. */
  helm(args: string[], opts?: KubectlOptions): Promise<KubectlResult>
  /** The first node, when started with nodes. */
  node?: ClusterNode
  /** Every node, in the order they were started, lost ones included; empty without nodes. */
  readonly nodes: readonly ClusterNode[]
  /**
   * With nodes: the machine's registry (`10.88.0.1:5000`) and the CA of its HTTPS, where every node
   * pulls every image from; push to it with images/push.ts.
   */
  registry?: Required<RegistryEndpoint>
  /** Starts one more node (named after its number), pulling from the same registry; Ready and routed. */
  addNode(): Promise<ClusterNode>
  /** Stops a node at once, as a terminated instance: its namespace goes silent, every process of it gets SIGKILL. */
  loseNode(name: string): Promise<void>
  /** Nodes first, then SIGTERM by PID, SIGKILL after a timeout; waits for exit. Idempotent. */
  stop(): Promise<void>
}

/** One of a cluster's nodes. */
export interface ClusterNode {
  readonly name: string
  /** Its address on the bridge, in its own network namespace. */
  readonly address: string
  /** What stopping it needs; `state.dir` holds its containerd's socket (node.ts, `ctr`). */
  readonly state: NodeState
}

/** Kills this process's non-detached clusters if it exits without stopping them (the janitor puts the machine back). */
export const orphans = new Set<number>()
process.on('exit', () => { for (const pid of orphans) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } } })

/** Stops a control plane's processes, last started first. */
export async function stopAll (pids: number[]): Promise<void> {
  await stopInReverse(pids)
  for (const pid of pids) orphans.delete(pid)
}

function handleOf (node: NodeState): ClusterNode {
  return { name: node.name, address: node.address, state: node }
}

interface HandleInput {
  dir: string
  owned: boolean
  kubeconfigPath: string
  server: string
  version: string
  components: Component[]
  machine: NodesState | undefined
  api: NodeApi
  detached: boolean
  log: (line: string) => void
}

/** The machine's nodes, or an error naming what needs them. */
function machineOf (c: HandleInput, what: string): NodesState {
  if (c.machine === undefined) throw new Error(`${what}: this cluster has no nodes (startCluster({ nodes: N }))`)
  return c.machine
}

export function makeCluster (c: HandleInput): Cluster {
  const pids = c.components.map((component) => component.pid)
  const machine = c.machine
  let stopping: Promise<void> | undefined
  const nodeOpts = { api: c.api, detached: c.detached, log: c.log }
  return {
    dir: c.dir,
    kubeconfigPath: c.kubeconfigPath,
    server: c.server,
    version: c.version,
    pids,
    kubectl: (args, opts) => runKubectl(binaryPath('kubectl'), c.kubeconfigPath, args, opts),
    // With nodes, helm trusts their registry's CA as a Go program trusts any: SSL_CERT_FILE.
    helm: (args, opts) => runHelm(c.kubeconfigPath, args, opts,
      machine === undefined ? {} : { SSL_CERT_FILE: machineRegistry(machine.dir).ca }),
    ...(machine === undefined || machine.nodes.length === 0 ? {} : { node: handleOf(machine.nodes[0]!) }),
    ...(machine === undefined ? {} : { registry: machineRegistry(machine.dir) }),
    get nodes () { return (machine?.nodes ?? []).map(handleOf) },
    async addNode () {
      const state = machineOf(c, 'addNode')
      const node = await addNode(state, nodeOpts)
      if (!c.detached) for (const { pid } of node.pids) orphans.add(pid)
      return handleOf(node)
    },
    loseNode: async (name) => { await loseNodeNamed(machineOf(c, 'loseNode'), name) },
    stop () {
      stopping ??= (async () => {
        try {
          // The janitor may have stopped them already (this process outlived the owner it was given).
          if (machine !== undefined && await readNodesState(machine.dir) !== undefined) {
            await stopNodes(machine)
            for (const { pid } of [...machine.pids, ...machine.nodes.flatMap(n => n.pids)]) orphans.delete(pid)
          }
        } finally {
          await stopAll(pids)
        }
        if (c.owned) await removeDir(c.dir)
      })()
      return stopping
    }
  }
}
