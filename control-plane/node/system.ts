/**
 * What a node changes on the machine outside its directory, recorded before it starts and put back
 * when it stops (the kubelet and containerd's shims leave things behind otherwise): the Pod bridge,
 * the network namespaces containerd makes, nftables tables (the guard's and kube-proxy's), kernel
 * settings (the CNI bridge plugin sets net.ipv4.ip_forward, the kubelet a few tunables), mounts,
 * the kubelet's cgroups, and the paths the kubelet, containerd and CNI write outside their
 * configured directories.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { guardRules, NODE } from './config.js'

const execFileAsync = promisify(execFile)

/** Kernel settings the node may change: the bridge plugin's ip_forward, then the kubelet's tunables. */
export const KUBELET_SYSCTLS = ['net/ipv4/ip_forward', 'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes']

/** Written outside the node's directory: device plugins, pod log links, CNI's cache, shim sockets, netns mounts. */
export const OUTSIDE_PATHS = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/var/lib/cni', '/run/containerd', '/run/netns']

/** The machine as it was before the node started. */
export interface MachineBefore {
  sysctls: Record<string, string>
  netns: string[]
  /** Which of OUTSIDE_PATHS existed. */
  paths: string[]
  nftTables: string[]
}

/** Runs a command; throws with its stderr. */
export async function run (command: string, args: string[], input?: string): Promise<string> {
  try {
    const child = execFileAsync(command, args, { maxBuffer: 64 << 20 })
    if (input !== undefined) { child.child.stdin?.end(input) }
    return (await child).stdout
  } catch (err) {
    throw new Error(`${command} ${args.join(' ')}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`, { cause: err })
  }
}

const exists = (path: string): Promise<boolean> => readdir(path).then(() => true, (err: NodeJS.ErrnoException) => err.code !== 'ENOENT')

/** The names in /run/netns (ip netns list). */
export async function netnsNames (): Promise<string[]> {
  return await readdir('/run/netns').catch(() => [])
}

/** `family name` of each nftables table. */
export async function nftTables (): Promise<string[]> {
  return (await run('nft', ['list', 'tables'])).split('\n').map(line => line.replace(/^table /, '').trim()).filter(Boolean)
}

/** Records what the node will change. */
export async function recordMachine (): Promise<MachineBefore> {
  const sysctls: Record<string, string> = {}
  for (const key of KUBELET_SYSCTLS) sysctls[key] = (await readFile(`/proc/sys/${key}`, 'utf8')).trim()
  const paths: string[] = []
  for (const path of OUTSIDE_PATHS) if (await exists(path)) paths.push(path)
  return { sysctls, netns: await netnsNames(), paths, nftTables: await nftTables() }
}

/** Creates the Pod bridge with the gateway address and the route to Services, and loads the guard rules. */
export async function setUpNetwork (): Promise<void> {
  await removeBridge()
  await run('ip', ['link', 'add', NODE.bridge, 'type', 'bridge'])
  await run('ip', ['addr', 'add', `${NODE.gateway}/24`, 'dev', NODE.bridge])
  await run('ip', ['link', 'set', NODE.bridge, 'up'])
  // Service addresses through the bridge, from its address: the host's own clients of a ClusterIP
  // (nginx, kubectl's checks, the API server calling a webhook) then never use the machine's
  // interface address, and a ClusterIP with no endpoints never follows the default route.
  await run('ip', ['route', 'add', NODE.serviceCidr, 'dev', NODE.bridge, 'src', NODE.gateway])
  await run('nft', ['delete', 'table', 'inet', NODE.guardTable]).catch(() => '')
  await run('nft', ['-f', '-'], guardRules())
}

async function removeBridge (): Promise<void> {
  await run('ip', ['link', 'del', NODE.bridge]).catch(() => '')
}

/** Mount points at or under any of `roots`, deepest first. */
export async function mountsUnder (roots: readonly string[]): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  const points = text.split('\n').map(line => line.split(' ')[4]?.replace(/\\040/g, ' ')).filter((p): p is string => p !== undefined)
  return [...new Set(points.filter(p => roots.some(root => p === root || p.startsWith(`${root}/`))))].sort((a, b) => b.length - a.length)
}

/** Unmounts everything under `roots` (lazily when busy); throws if anything is still mounted. */
export async function unmountUnder (roots: readonly string[]): Promise<void> {
  for (const point of await mountsUnder(roots)) {
    await run('umount', [point]).catch(() => run('umount', ['-l', point])).catch(() => '')
  }
  const left = await mountsUnder(roots)
  if (left.length > 0) throw new Error(`still mounted: ${left.join(', ')}`)
}

/** The kubelet's `kubepods` cgroup in every hierarchy that has one. */
export async function kubepodsCgroups (): Promise<string[]> {
  const found: string[] = []
  for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [])) {
    for (const path of [join('/sys/fs/cgroup', hierarchy, 'kubepods'), join('/sys/fs/cgroup', hierarchy, 'kubepods.slice')]) if (await exists(path)) found.push(path)
  }
  if (await exists('/sys/fs/cgroup/kubepods')) found.push('/sys/fs/cgroup/kubepods')
  return [...new Set(found)]
}

/** Removes a cgroup tree, children first (rmdir only: a cgroup with a process left fails). */
async function removeCgroup (path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(join(path, entry.name))
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(path)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      if (attempt >= 20) throw new Error(`cannot remove cgroup ${path}: ${(err as Error).message}`, { cause: err })
      await sleep(100)
    }
  }
}

/**
 * Puts the machine back as `before` recorded it, once the node's processes are gone: network
 * namespaces, the bridge, nftables tables, mounts under `roots`, cgroups, kernel settings and paths.
 * Every step runs; the errors are collected and thrown together at the end.
 */
export async function restoreMachine (before: MachineBefore, roots: readonly string[]): Promise<void> {
  const errors: string[] = []
  const step = async (fn: () => Promise<unknown>): Promise<void> => { try { await fn() } catch (err) { errors.push((err as Error).message) } }
  for (const ns of await netnsNames()) {
    if (!before.netns.includes(ns)) await step(() => run('ip', ['netns', 'delete', ns]))
  }
  await step(removeBridge)
  for (const table of await nftTables()) {
    const [family, name] = table.split(' ')
    const ours = name === NODE.guardTable || name === 'kube-proxy'
    if (ours && !before.nftTables.includes(table)) await step(() => run('nft', ['delete', 'table', family!, name!]))
  }
  // /run/netns holds other namespaces' mounts too: only ours went, with `ip netns delete` above.
  await step(() => unmountUnder([...roots, ...OUTSIDE_PATHS.filter(path => path !== '/run/netns' && !before.paths.includes(path))]))
  for (const cgroup of await kubepodsCgroups()) await step(() => removeCgroup(cgroup))
  for (const [key, value] of Object.entries(before.sysctls)) {
    await step(async () => {
      if ((await readFile(`/proc/sys/${key}`, 'utf8')).trim() !== value) await writeFile(`/proc/sys/${key}`, value)
    })
  }
  for (const path of OUTSIDE_PATHS) if (!before.paths.includes(path)) await step(() => rm(path, { recursive: true, force: true }))
  if (errors.length > 0) throw new Error(`the node left something behind: ${errors.join('; ')}`)
}
