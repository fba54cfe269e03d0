/**
 * A real node next to the control plane: kube-scheduler, the cluster DNS, containerd (Debian's) with
 * runc and the CNI bridge, the kubelet and kube-proxy, as in NODE-NOTES.md, all on addresses the
 * node makes itself (config.ts). `prepareNode` runs before the API server starts (it needs the
 * bridge's address to listen on); `startNode` after the controller manager; `stopNode` stops it all
 * by PID and puts the machine back as it was, from a state that a later process can read
 * (`cluster:down` stops what `cluster:up --node` started).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { acquireNodeLock, addNodeLockHolders, releaseNodeLock } from '../lock.js'
import { binaryPath, repoRoot } from '../paths.js'
import { get, waitUntil } from '../probe.js'
import { isRunning, startComponent, stopProcesses, tailLog, type Component } from '../processes.js'
import { pushImage } from '../images/push.js'
import { REGISTRY_PORT, startRegistry } from '../registry.js'
import { makeRegistryTls } from '../registry-tls.js'
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig, NODE, nodePaths } from './config.js'
import { nodeImages } from './images.js'
import { checkNodeMachine, ensureDebianPackages, NODE_REQUIREMENTS } from './prereqs.js'
import { writeRegistryHosts } from './registry-hosts.js'
import { recordMachine, restoreMachine, run, setUpNetwork, type MachineBefore } from './system.js'

/** What `stopNode` needs, also from another process: JSON-safe. */
export interface NodeState {
  dir: string
  /** The node's processes, in start order. */
  pids: Array<{ name: string, pid: number }>
  before: MachineBefore
}

/** Checks the machine, takes the node lock, records the machine and makes the Pod bridge. */
export async function prepareNode (dir: string, log: (line: string) => void): Promise<NodeState> {
  await checkNodeMachine()
  await ensureDebianPackages(NODE_REQUIREMENTS, log)
  const release = await acquireNodeLock(log)
  let before: MachineBefore | undefined
  try {
    before = await recordMachine()
    await mkdir(dir, { recursive: true })
    await setUpNetwork()
    return { dir, pids: [], before }
  } catch (err) {
    if (before !== undefined) await restoreMachine(before, [dir]).catch((e: unknown) => { log(`[node] ${(e as Error).message}`) })
    await release()
    throw err
  }
}

/** ctr against the node's containerd. */
export function ctr (dir: string, args: string[]): Promise<string> {
  return run('ctr', ['-a', nodePaths(dir).containerdSocket, '-n', 'k8s.io', ...args])
}

/** The node's registry, `HOST:PORT`: on the bridge's gateway, where containerd and Pods reach it. */
export const NODE_REGISTRY = `${NODE.gateway}:${REGISTRY_PORT}`

interface StartNodeOptions {
  state: NodeState
  kubeconfigPath: string
  server: string
  token: string
  ca: string
  detached: boolean
  log: (line: string) => void
}

/** Starts the node's processes in order, each waited for; on failure the error quotes the failing one's log. */
export async function startNode (o: StartNodeOptions): Promise<void> {
  const { state, log } = o
  const started = Date.now()
  const step = (what: string): void => { log(`[node] ${what} (${Date.now() - started} ms)`) }
  const dir = state.dir
  const p = nodePaths(dir)
  for (const sub of ['containerd', 'cni/net.d', 'cni/ipam', 'kubelet', 'pod-logs', 'runc']) await mkdir(join(dir, sub), { recursive: true })
  await writeFile(p.containerdConfig, containerdConfig(dir))
  await writeFile(join(p.cniConfDir, '10-lameduck.conflist'), cniConfig(dir))
  await writeFile(p.kubeletConfig, kubeletConfig(dir))
  await writeFile(p.proxyConfig, kubeProxyConfig(o.kubeconfigPath))
  await writeFile(p.resolvConf, `nameserver ${NODE.gateway}\n`)
  const registryTls = await makeRegistryTls(dir, NODE.gateway)
  await writeRegistryHosts(dir, NODE_REGISTRY, registryTls.ca)
  const images = await nodeImages(log)
  const auth = { token: o.token, ca: o.ca }

  const start = async (name: string, binary: string, args: string[], ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<Component> => {
    const component = startComponent(name, binary, args, { dir, detached: o.detached })
    state.pids.push({ name, pid: component.pid })
    await addNodeLockHolders(state.pids.map(x => x.pid))
    try {
      await waitUntil(name, ready, { timeoutMs, exited: component.exited })
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- last lines of ${component.logPath} ---\n${await tailLog(component.logPath)}`, { cause: err })
    }
    return component
  }
  await start('kube-scheduler', binaryPath('kube-scheduler'), [`--kubeconfig=${o.kubeconfigPath}`, '--leader-elect=false', '--secure-port=0'], async () => true)
  // tsx by URL: the process runs in the node's directory, outside the checkout's node_modules.
  await start('cluster-dns', process.execPath, ['--import', import.meta.resolve('tsx'), join(repoRoot, 'control-plane/node/dns-server.ts'), '--listen', NODE.gateway, '--kubeconfig', o.kubeconfigPath, '--domain', NODE.clusterDomain],
    async () => (await readFile(join(dir, 'cluster-dns.log'), 'utf8').catch(() => '')).includes('cluster DNS for'))
  step('kube-scheduler and cluster DNS started')
  const registry = await startRegistry({ address: NODE_REGISTRY, dir, detached: o.detached, log, tls: registryTls })
  state.pids.push({ name: 'registry', pid: registry.pid })
  await addNodeLockHolders(state.pids.map(x => x.pid))
  const endpoint = { address: NODE_REGISTRY, ca: registryTls.ca }
  for (const { archive, ref } of images) await pushImage(archive, ref, endpoint, log)
  step(`registry serving on ${NODE_REGISTRY}; pause and agnhost pushed`)
  await start('containerd', '/usr/bin/containerd', ['--config', p.containerdConfig], async () => { await ctr(dir, ['version']); return true })
  step('containerd serving')
  await start('kubelet', binaryPath('kubelet'), [`--config=${p.kubeletConfig}`, `--kubeconfig=${o.kubeconfigPath}`, `--root-dir=${p.kubeletRoot}`, `--cert-dir=${join(p.kubeletRoot, 'pki')}`,
    `--hostname-override=${NODE.name}`, `--node-ip=${NODE.gateway}`, '--v=2'], async () => nodeReady(o.server, auth), 90_000)
  step(`node ${NODE.name} Ready`)
  await start('kube-proxy', binaryPath('kube-proxy'), [`--config=${p.proxyConfig}`, `--hostname-override=${NODE.name}`, '--v=2'],
    async () => (await get(`http://127.0.0.1:${NODE.proxyHealthzPort}/healthz`)).status === 200)
  step('kube-proxy healthy')
}

async function nodeReady (server: string, auth: { token: string, ca: string }): Promise<boolean> {
  const res = await get(`${server}/api/v1/nodes/${NODE.name}`, auth)
  if (res.status !== 200) return false
  const node = JSON.parse(res.body) as { status?: { conditions?: Array<{ type: string, status: string }> } }
  return node.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
}

/** PIDs of the processes in the kubelet's cgroups: the containers. */
async function containerPids (): Promise<number[]> {
  const pids: number[] = []
  const walk = async (path: string): Promise<void> => {
    for (const pid of (await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean)) pids.push(Number(pid))
    for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) await walk(join(path, entry.name))
  }
  await walk('/sys/fs/cgroup/pids/kubepods')
  await walk('/sys/fs/cgroup/unified/kubepods')
  await walk('/sys/fs/cgroup/kubepods')
  return [...new Set(pids)]
}

/** containerd's shims for this node's socket (they outlive containerd: NODE-NOTES.md, trap 5). */
async function shimPids (dir: string): Promise<number[]> {
  const socket = nodePaths(dir).containerdSocket
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
    if (args[0]?.endsWith('containerd-shim-runc-v2') === true && args.includes(socket)) pids.push(Number(entry))
  }
  return pids
}

/**
 * Stops the node: kube-proxy, the kubelet, DNS and the scheduler by PID; the containers (killed by
 * the PIDs in the kubelet's cgroups, after asking containerd); containerd and any shim left; then
 * the machine is put back (system.ts) and the node lock released. Errors are collected and thrown
 * together at the end, after every step ran.
 */
export async function stopNode (state: NodeState, log: (line: string) => void = () => {}): Promise<void> {
  const errors: string[] = []
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try { await fn() } catch (err) { errors.push(`${what}: ${(err as Error).message}`) }
  }
  const byName = (name: string): number[] => state.pids.filter(x => x.name === name).map(x => x.pid)
  for (const name of ['kube-proxy', 'kubelet', 'cluster-dns', 'kube-scheduler']) await step(`stop ${name}`, () => stopProcesses(byName(name)))
  if (byName('containerd').some(isRunning)) {
    await step('kill the containers', async () => {
      for (const task of (await ctr(state.dir, ['tasks', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean)) await ctr(state.dir, ['tasks', 'kill', '-s', 'SIGKILL', task]).catch(() => '')
    })
  }
  await step('kill the containers', async () => {
    for (let i = 0; i < 50; i++) {
      const pids = await containerPids()
      if (pids.length === 0) return
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
      await sleep(100)
    }
    throw new Error(`still running in the kubepods cgroups: ${(await containerPids()).join(', ')}`)
  })
  await step('stop containerd', () => stopProcesses(byName('containerd')))
  await step('stop the registry', () => stopProcesses(byName('registry')))
  await step('stop the shims', async () => { await stopProcesses(await shimPids(state.dir), 2000) })
  await step('restore the machine', () => restoreMachine(state.before, [state.dir]))
  await releaseNodeLock()
  log('[node] stopped; the machine is as it was')
  if (errors.length > 0) throw new Error(`stopping the node: ${errors.join('; ')}`)
}
