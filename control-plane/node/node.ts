/**
 * One real node, in its own network namespace on the machine's bridge (network.ts): Debian's
 * containerd with runc and the CNI bridge, the kubelet and kube-proxy, each started inside the
 * namespace with `nsenter --net` (the mount namespace stays the machine's, so the kubelet's volumes
 * and containerd's snapshots are where both see them), its Pods under its own cgroup root, every
 * image pulled from the machine's registry (registry-hosts.ts, machine-registry.ts). Started
 * after the controller manager; stopped by PID; or lost at once, as an instance that is terminated
 * (`loseNode`). What several nodes share on the machine is nodes.ts'.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { binaryPath } from '../paths.js'
import { get, waitUntil } from '../probe.js'
import { isRunning, startComponent, stopProcesses, tailLog } from '../processes.js'
import { kubeletConfig, kubeProxyConfig } from './agents.js'
import { cniTemplate, containerdConfig, NODE, nodePaths, nodeSpec } from './config.js'
import type { NodeLifecycle, NodeSpec } from './config.js'
import type { RegistryEndpoint } from '../images/push.js'
import { netnsPath, removeNodeNetwork, setUpNodeNetwork, silenceNode } from './network.js'
import { writeRegistryHosts } from './registry-hosts.js'
import { containerPids, killContainers, shimPids } from './containers.js'
import type { NodeState } from './state.js'
import { createCgroupRoot, run } from './system.js'

export type { NodeProcess, NodeState } from './state.js'

/** The API server, as a node's processes reach it. */
export interface NodeApi { kubeconfigPath: string, server: string, token: string, ca: string }

/** What starting a node needs besides its number. */
export interface StartNodeOptions {
  api: NodeApi
  dir: string
  detached: boolean
  lifecycle?: NodeLifecycle
  /** The machine's registry, where containerd pulls every image from (with the CA of its HTTPS). */
  registry: Required<RegistryEndpoint>
  log: (line: string) => void
  /** Called with the node's state each time it starts a process, so that it can be recorded at once. */
  onProcess: (state: NodeState) => Promise<void>
}

/** ctr against a node's containerd. */
export function ctr (dir: string, args: string[]): Promise<string> {
  return run('ctr', ['-a', nodePaths(dir).containerdSocket, '-n', 'k8s.io', ...args])
}

/** A process to start in a node's namespace, and how to know it is ready. */
interface Inside { name: string, binary: string, args: string[], ready: () => Promise<boolean>, timeoutMs?: number }

/** Starts a process inside the node's namespace, records it, waits until it is ready; a failure quotes its log. */
async function startInside (state: NodeState, o: StartNodeOptions, p: Inside): Promise<void> {
  const nsenter = [`--net=${netnsPath(nodeSpec(state.index))}`, '--', p.binary, ...p.args]
  const component = startComponent(p.name, '/usr/bin/nsenter', nsenter, { dir: state.dir, detached: o.detached })
  state.pids.push({ name: p.name, pid: component.pid })
  await o.onProcess(state)
  try {
    await waitUntil(`${state.name}: ${p.name}`, p.ready, { timeoutMs: p.timeoutMs ?? 60_000, exited: component.exited })
  } catch (err) {
    const tail = await tailLog(component.logPath)
    throw new Error(`${(err as Error).message}\n--- last lines of ${component.logPath} ---\n${tail}`, { cause: err })
  }
}

/** Writes the node's configuration files. */
async function writeConfigs (spec: NodeSpec, o: StartNodeOptions): Promise<void> {
  const p = nodePaths(o.dir)
  for (const sub of ['containerd', 'cni/net.d', 'cni/ipam', 'kubelet', 'pod-logs', 'runc']) {
    await mkdir(join(o.dir, sub), { recursive: true })
  }
  await writeFile(p.containerdConfig, containerdConfig(o.dir))
  await writeFile(p.cniTemplate, cniTemplate(o.dir))
  await writeFile(p.kubeletConfig, kubeletConfig(o.dir, spec, o.lifecycle))
  await writeFile(p.proxyConfig, kubeProxyConfig(o.api.kubeconfigPath, spec.address))
  await writeFile(p.resolvConf, `nameserver ${NODE.gateway}\n`)
  await writeRegistryHosts(o.dir, o.registry.address, o.registry.ca)
}

/**
 * Starts node number `index` up to Ready: its namespace and link, its cgroup root, containerd (which
 * pulls from the machine's registry), the kubelet. Its kube-proxy comes later (`startNodeProxy`),
 * once the routes to every node's Pods are there. On failure the state holds what was started, for `stopNode`.
 */
export async function startNode (index: number, o: StartNodeOptions): Promise<NodeState> {
  const spec = nodeSpec(index)
  const state: NodeState = { index, name: spec.name, address: spec.address, dir: o.dir, pids: [] }
  const started = Date.now()
  const step = (what: string): void => { o.log(`[node] ${spec.name}: ${what} (${Date.now() - started} ms)`) }
  await o.onProcess(state)
  await setUpNodeNetwork(spec)
  await createCgroupRoot(spec.cgroupRoot)
  await writeConfigs(spec, o)
  const p = nodePaths(o.dir)
  const serving = async (): Promise<boolean> => { await ctr(o.dir, ['version']); return true }
  const config = ['--config', p.containerdConfig]
  await startInside(state, o, { name: 'containerd', binary: '/usr/bin/containerd', args: config, ready: serving })
  step(`network namespace ${spec.netns} at ${spec.address}; containerd serving, pulling from ${o.registry.address}`)
  const args = [
    `--config=${p.kubeletConfig}`, `--kubeconfig=${o.api.kubeconfigPath}`,
    `--root-dir=${p.kubeletRoot}`, `--cert-dir=${join(p.kubeletRoot, 'pki')}`,
    `--hostname-override=${spec.name}`, `--node-ip=${spec.address}`, '--v=2'
  ]
  const ready = async (): Promise<boolean> => (await readNode(o.api, spec.name)).ready
  await startInside(state, o, { name: 'kubelet', binary: binaryPath('kubelet'), args, ready, timeoutMs: 120_000 })
  step('Ready')
  return state
}

/** Starts the node's kube-proxy in its namespace and waits for its health endpoint on the node's address. */
export async function startNodeProxy (state: NodeState, o: StartNodeOptions): Promise<void> {
  const args = [`--config=${nodePaths(state.dir).proxyConfig}`, `--hostname-override=${state.name}`, '--v=2']
  const health = `http://${state.address}:${NODE.proxyHealthzPort}/healthz`
  const healthy = async (): Promise<boolean> => (await get(health)).status === 200
  await startInside(state, o, { name: 'kube-proxy', binary: binaryPath('kube-proxy'), args, ready: healthy })
}

interface Condition { type: string, status: string }

/** What the API server says of a node: Ready, and the Pod CIDR the controller manager gave it. */
export async function readNode (api: NodeApi, name: string): Promise<{ ready: boolean, podCidr: string | undefined }> {
  const res = await get(`${api.server}/api/v1/nodes/${name}`, { token: api.token, ca: api.ca })
  if (res.status !== 200) return { ready: false, podCidr: undefined }
  const node = JSON.parse(res.body) as { spec?: { podCIDR?: string }, status?: { conditions?: Condition[] } }
  const ready = node.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
  return { ready, podCidr: node.spec?.podCIDR }
}

/**
 * The node is lost, as when its instance is terminated: its namespace first drops every packet (no
 * reset or FIN leaves it), then its kubelet, kube-proxy, containerd, shims and every process of its
 * Pods get SIGKILL at once. No preStop, no endpoint update from the kubelet: the control plane learns
 * of it only when the node's Lease stops being renewed. Its namespace, mounts and cgroups stay until
 * the cluster stops (`stopNode`).
 */
export async function loseNode (state: NodeState): Promise<void> {
  await silenceNode(nodeSpec(state.index))
  const all = [...state.pids.map(x => x.pid).filter(isRunning), ...await shimPids(state), ...await containerPids(state)]
  for (const pid of all) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
  state.lost = true
  await stopProcesses(all, 0)
  await killContainers(state)
}

/**
 * Stops the node: kube-proxy and the kubelet by PID; the containers (killed by the PIDs in its
 * cgroups, after asking containerd); containerd and any shim left; its namespace and link. The
 * machine-wide leftovers (mounts, cgroups, the Pods' namespaces) are nodes.ts'. Errors are collected
 * and thrown together, after every step ran.
 */
export async function stopNode (state: NodeState): Promise<void> {
  const errors: string[] = []
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try { await fn() } catch (err) { errors.push(`${state.name}: ${what}: ${(err as Error).message}`) }
  }
  const byName = (name: string): number[] => state.pids.filter(x => x.name === name).map(x => x.pid)
  for (const name of ['kube-proxy', 'kubelet']) await step(`stop ${name}`, () => stopProcesses(byName(name)))
  if (byName('containerd').some(isRunning)) {
    await step('kill the containers', async () => {
      for (const task of (await ctr(state.dir, ['tasks', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean)) await ctr(state.dir, ['tasks', 'kill', '-s', 'SIGKILL', task]).catch(() => '')
    })
  }
  await step('kill the containers', () => killContainers(state))
  await step('stop containerd', () => stopProcesses(byName('containerd')))
  await step('stop the shims', async () => { await stopProcesses(await shimPids(state), 2000) })
  await step('remove its network namespace', () => removeNodeNetwork(nodeSpec(state.index)))
  if (errors.length > 0) throw new Error(errors.join('; '))
}
