/**
 * The machine's share of a cluster with nodes, and the nodes as a group. `prepareMachine` runs
 * before the API server (which listens on the bridge's gateway): it checks the machine, takes the
 * node lock, records what the nodes will change and makes the bridge. `startNodes` runs after the
 * controller manager: kube-scheduler, the cluster DNS and the registry every node pulls from
 * (machine-registry.ts), then the nodes side by side, the routes to their Pod CIDRs, and their
 * kube-proxies. `stopNodes` stops it all by PID and
 * puts the machine back. Everything is recorded in a state file as it starts, so that `cluster:down`,
 * or the janitor when the process that started a cluster dies (janitor.ts), can undo it.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireNodeLock, releaseNodeLock } from '../lock.js'
import { binaryPath, repoRoot } from '../paths.js'
import { waitUntil } from '../probe.js'
import { isRunning, startComponent, stopProcesses, tailLog } from '../processes.js'
import { NODE, nodeSpec, type NodeLifecycle } from './config.js'
import { machineRegistry, startMachineRegistry } from './machine-registry.js'
import { setPodRoutes, setUpMachineNetwork, type PodRoute } from './network.js'
import { loseNode, readNode, startNode, startNodeProxy, stopNode } from './node.js'
import type { NodeApi, NodeState, StartNodeOptions } from './node.js'
import { checkNodeMachine, ensureDebianPackages, NODE_REQUIREMENTS } from './prereqs.js'
import { nodesStatePath, saveNodesState, type NodesState } from './state.js'
import { recordMachine, restoreMachine } from './system.js'

export { readNodesState, saveNodesState, type NodesState } from './state.js'

/** What `prepareMachine` needs. */
interface PrepareOptions {
  dir: string
  owner: number
  owned: boolean
  lifecycle?: NodeLifecycle
  log: (line: string) => void
}

/** Checks the machine, takes the node lock, records the machine and makes the bridge. */
export async function prepareMachine (o: PrepareOptions): Promise<NodesState> {
  await checkNodeMachine()
  await ensureDebianPackages(NODE_REQUIREMENTS, o.log)
  await acquireNodeLock(o.log, o.owner)
  let state: NodesState | undefined
  try {
    state = {
      dir: o.dir, owner: o.owner, owned: o.owned, before: await recordMachine(),
      pids: [], controlPlane: [], nodes: [],
      ...(o.lifecycle === undefined ? {} : { lifecycle: o.lifecycle })
    }
    await saveNodesState(state)
    await setUpMachineNetwork()
    return state
  } catch (err) {
    const say = (e: unknown): void => { o.log(`[node] ${(e as Error).message}`) }
    if (state !== undefined) await restoreMachine(state.before, [o.dir]).catch(say)
    await releaseNodeLock(o.owner)
    throw err
  }
}

/** What starting nodes needs besides the state. */
export interface StartNodesOptions { api: NodeApi, detached: boolean, log: (line: string) => void }

/** A process to start on the machine, and how to know it is ready. */
interface OnMachine { name: string, binary: string, args: string[], ready: () => Promise<boolean> }

/** Starts a process on the machine, records it, waits until it is ready; a failure quotes its log. */
async function startOnMachine (state: NodesState, o: StartNodesOptions, p: OnMachine): Promise<void> {
  const component = startComponent(p.name, p.binary, p.args, { dir: state.dir, detached: o.detached })
  state.pids.push({ name: p.name, pid: component.pid })
  await saveNodesState(state)
  try {
    await waitUntil(p.name, p.ready, { timeoutMs: 60_000, exited: component.exited })
  } catch (err) {
    const tail = await tailLog(component.logPath)
    throw new Error(`${(err as Error).message}\n--- last lines of ${component.logPath} ---\n${tail}`, { cause: err })
  }
}

/**
 * Waits for every start, then throws the first failure: nothing may still be starting while a
 * failed start is undone.
 */
async function settled (starts: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(starts)
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}

/** The options a node of `state` starts with. */
function nodeOptions (state: NodesState, o: StartNodesOptions, index: number): StartNodeOptions {
  return {
    api: o.api,
    dir: join(state.dir, index === 1 ? 'node' : `node-${index}`),
    detached: o.detached,
    ...(state.lifecycle === undefined ? {} : { lifecycle: state.lifecycle }),
    registry: machineRegistry(state.dir),
    log: o.log,
    onProcess: async (node) => {
      if (!state.nodes.includes(node)) state.nodes.push(node)
      await saveNodesState(state)
    }
  }
}

/** Routes to every node's Pod CIDR, everywhere, as the API server gave them out. */
async function routeNodes (state: NodesState, api: NodeApi): Promise<void> {
  const routes: PodRoute[] = []
  for (const node of state.nodes) {
    const { podCidr } = await readNode(api, node.name)
    if (podCidr !== undefined) routes.push({ cidr: podCidr, via: node.address })
  }
  await setPodRoutes(state.nodes.filter(node => node.lost !== true).map(node => nodeSpec(node.index)), routes)
}

/**
 * Starts kube-scheduler, then the cluster DNS, the registry and `count` nodes side by side (the nodes
 * up to Ready), the routes between them, and their kube-proxies.
 */
export async function startNodes (state: NodesState, count: number, o: StartNodesOptions): Promise<void> {
  const started = Date.now()
  const step = (what: string): void => { o.log(`[node] ${what} (${Date.now() - started} ms)`) }
  const kubeconfig = o.api.kubeconfigPath
  const schedulerArgs = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0']
  const scheduler = { name: 'kube-scheduler', binary: binaryPath('kube-scheduler'), args: schedulerArgs }
  await startOnMachine(state, o, { ...scheduler, ready: async () => true })
  // tsx by URL: the process runs in the cluster's directory, outside the checkout's node_modules.
  // Its few seconds of start-up overlap the nodes' (their kubelets do not need it to be Ready).
  const server = join(repoRoot, 'control-plane/node/dns-server.ts')
  const args = ['--import', import.meta.resolve('tsx'), server, '--listen', NODE.gateway, '--kubeconfig', kubeconfig,
    '--domain', NODE.clusterDomain]
  const dnsLog = join(state.dir, 'cluster-dns.log')
  const listening = async (): Promise<boolean> => {
    return (await readFile(dnsLog, 'utf8').catch(() => '')).includes('cluster DNS for')
  }
  const dns = startOnMachine(state, o, { name: 'cluster-dns', binary: process.execPath, args, ready: listening })
  const onStart = async (pid: number): Promise<void> => {
    state.pids.push({ name: 'registry', pid })
    await saveNodesState(state)
  }
  const registry = startMachineRegistry({ dir: state.dir, detached: o.detached, log: o.log, onStart })
  const indices = Array.from({ length: count }, (_, i) => i + 1)
  await settled([dns, registry, ...indices.map(index => startNode(index, nodeOptions(state, o, index)))])
  step(`kube-scheduler, cluster DNS, registry (pause and agnhost pushed), ${count} node(s) Ready`)
  await routeNodes(state, o.api)
  await settled(state.nodes.map(node => startNodeProxy(node, nodeOptions(state, o, node.index))))
  step('routes to every node\'s Pods; kube-proxies healthy')
}

/** Starts one more node (the next number; a lost node's is never reused), pulling from the same registry. */
export async function addNode (state: NodesState, o: StartNodesOptions): Promise<NodeState> {
  const index = Math.max(0, ...state.nodes.map(node => node.index)) + 1
  const node = await startNode(index, nodeOptions(state, o, index))
  await routeNodes(state, o.api)
  await startNodeProxy(node, nodeOptions(state, o, index))
  return node
}

/** Loses a node at once (node.ts, `loseNode`), and records it. */
export async function loseNodeNamed (state: NodesState, name: string): Promise<void> {
  const node = state.nodes.find(n => n.name === name)
  const names = state.nodes.map(n => n.name).join(', ')
  if (node === undefined) throw new Error(`no node ${name} in this cluster (${names})`)
  if (node.lost === true) throw new Error(`node ${name} is already lost`)
  await loseNode(node)
  await saveNodesState(state)
}

/**
 * Stops the machine's processes and every node, puts the machine back, forgets the state, and
 * releases the node lock. Every step runs; the errors are thrown together at the end.
 */
export async function stopNodes (state: NodesState, log: (line: string) => void = () => {}): Promise<void> {
  const errors: string[] = []
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try { await fn() } catch (err) { errors.push(`${what}: ${(err as Error).message}`) }
  }
  const byName = (name: string): number[] => state.pids.filter(x => x.name === name).map(x => x.pid)
  await Promise.all(state.nodes.map(node => step(`stop ${node.name}`, () => stopNode(node))))
  for (const name of ['registry', 'cluster-dns', 'kube-scheduler']) {
    await step(`stop ${name}`, () => stopProcesses(byName(name)))
  }
  await step('restore the machine', () => restoreMachine(state.before, state.nodes.map(node => node.dir)))
  await rm(nodesStatePath(state.dir), { force: true })
  const janitor = state.janitor
  if (janitor !== undefined && janitor !== process.pid && isRunning(janitor)) {
    await stopProcesses([janitor], 2000).catch(() => undefined)
  }
  await releaseNodeLock(state.owner)
  log(`[node] ${state.nodes.length} node(s) stopped; the machine is as it was`)
  if (errors.length > 0) throw new Error(`stopping the nodes: ${errors.join('; ')}`)
}
