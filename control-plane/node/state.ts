/**
 * The state of a cluster's nodes, JSON-safe and written as it changes to `<cluster>/nodes.json`:
 * what stopping them needs, also from another process (`cluster:down`, the janitor), and the node
 * lock's holders.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeNodeLockHolders } from '../lock.js'
import type { NodeLifecycle } from './config.js'
import type { MachineBefore } from './system.js'

/** A process the node started, by the name it was started as. */
export interface NodeProcess { name: string, pid: number }

/** One node, JSON-safe (a later process stops it: `cluster:down`, the janitor). */
export interface NodeState {
  index: number
  name: string
  address: string
  dir: string
  /** Its processes, in start order. */
  pids: NodeProcess[]
  /** Stopped hard by loseNode: its processes are gone, its namespace drops every packet. */
  lost?: boolean
}

/** Everything a cluster's nodes are, JSON-safe: what stopping them needs, also from another process. */
export interface NodesState {
  /** The cluster's directory; each node's is `node`, `node-2`, … under it. */
  dir: string
  /** The process whose exit stops the cluster (the janitor watches it). */
  owner: number
  /** Whether `dir` goes when the cluster stops. */
  owned: boolean
  before: MachineBefore
  /** On the machine: kube-scheduler, the cluster DNS and the registry. */
  pids: NodeProcess[]
  /** etcd, kube-apiserver, kube-controller-manager: stopped by the janitor too. */
  controlPlane: number[]
  /** The janitor's PID, when one watches `owner`. */
  janitor?: number
  nodes: NodeState[]
  lifecycle?: NodeLifecycle
}

let saves = 0

/** Where the state is written, in the cluster's directory. */
export function nodesStatePath (dir: string): string {
  return join(dir, 'nodes.json')
}

/**
 * Writes the state (whole, by a rename: nodes start side by side and save at once) and the node
 * lock's holders (every live process of it, so the lock outlives a detached start).
 */
export async function saveNodesState (state: NodesState): Promise<void> {
  const path = nodesStatePath(state.dir)
  const temporary = `${path}.${process.pid}.${++saves}`
  await writeFile(temporary, JSON.stringify(state, null, 2) + '\n')
  await rename(temporary, path)
  const pids = [...state.pids, ...state.nodes.flatMap(node => node.pids)].map(x => x.pid)
  await writeNodeLockHolders(state.owner, [...pids, ...state.janitor === undefined ? [] : [state.janitor]])
}

/** The state a cluster's directory holds, or undefined once its nodes were stopped. */
export async function readNodesState (dir: string): Promise<NodesState | undefined> {
  const text = await readFile(nodesStatePath(dir), 'utf8').catch(() => undefined)
  return text === undefined ? undefined : JSON.parse(text) as NodesState
}
