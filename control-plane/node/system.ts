/**
 * What the nodes change on the machine outside their directories, recorded before the first starts
 * and put back when they stop (the kubelet and containerd's shims leave things behind otherwise):
 * the bridge, the network namespaces (the nodes' and the ones containerd makes for Pods), nftables
 * tables (the guard's and the machine's kube-proxy's), kernel settings (the kubelet sets a few
 * tunables; ip_forward is watched too, though the nodes now set it only inside their own
 * namespaces), mounts, the nodes' cgroups, and the paths the kubelet, containerd and CNI write
 * outside their configured directories.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { NODE } from './config.js'

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
  /** The nodes' cgroups that were there (nodeCgroups). */
  cgroups?: string[]
  /** Whether /run/netns was a mount point (`ip netns add` makes it one, shared). */
  netnsMounted?: boolean
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
  const netnsMounted = (await mountsUnder(['/run/netns'])).includes('/run/netns')
  const netns = await netnsNames()
  return { sysctls, netns, paths, nftTables: await nftTables(), cgroups: await nodeCgroups(), netnsMounted }
}

/** Deletes the bridge (its routes go with it); harmless when it is not there. */
export async function removeBridge (): Promise<void> {
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

/** The cgroup hierarchies: each v1 controller's mount (and the named and unified ones), or the one v2 tree. */
async function cgroupHierarchies (): Promise<string[]> {
  if (await exists('/sys/fs/cgroup/cgroup.controllers')) return ['/sys/fs/cgroup']
  const entries = await readdir('/sys/fs/cgroup', { withFileTypes: true }).catch(() => [])
  return entries.filter(entry => entry.isDirectory()).map(entry => join('/sys/fs/cgroup', entry.name))
}

/** The nodes' cgroups at the top of every hierarchy: a kubelet's default `kubepods`, and the nodes' own roots. */
export async function nodeCgroups (): Promise<string[]> {
  const found: string[] = []
  for (const hierarchy of await cgroupHierarchies()) {
    for (const entry of await readdir(hierarchy, { withFileTypes: true }).catch(() => [])) {
      const ours = /^(kubepods(\.slice)?|lameduck-node(-\d+)?)$/.test(entry.name)
      if (entry.isDirectory() && ours) found.push(join(hierarchy, entry.name))
    }
  }
  return found.sort()
}

/**
 * Creates a node's cgroup root in every hierarchy, which the kubelet checks before it starts; a v1
 * cpuset cgroup starts with no CPUs and no memory nodes, so those are copied from the top.
 */
export async function createCgroupRoot (root: string): Promise<void> {
  for (const hierarchy of await cgroupHierarchies()) {
    const path = join(hierarchy, root)
    await mkdir(path, { recursive: true })
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const top = await readFile(join(hierarchy, file), 'utf8').catch(() => undefined)
      if (top !== undefined && hierarchy.endsWith('/cpuset')) await writeFile(join(path, file), top.trim())
    }
  }
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
  const step = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn()
    } catch (err) {
      errors.push((err as Error).message)
    }
  }
  for (const ns of await netnsNames()) {
    if (!before.netns.includes(ns)) await step(() => run('ip', ['netns', 'delete', ns]))
  }
  if (before.netnsMounted !== true && (await mountsUnder(['/run/netns'])).includes('/run/netns')) {
    await step(() => run('umount', ['/run/netns']).catch(() => run('umount', ['-l', '/run/netns'])))
  }
  await step(removeBridge)
  for (const table of await nftTables()) {
    const [family, name] = table.split(' ')
    const ours = name === NODE.guardTable || name === 'kube-proxy'
    if (ours && !before.nftTables.includes(table)) await step(() => run('nft', ['delete', 'table', family!, name!]))
  }
  // /run/netns holds other namespaces' mounts too: only ours went, with `ip netns delete` above.
  await step(() => unmountUnder([...roots, ...OUTSIDE_PATHS.filter(path => path !== '/run/netns' && !before.paths.includes(path))]))
  // A state recorded before the nodes had cgroup roots of their own lacks the list: none were there.
  const cgroupsBefore = before.cgroups ?? []
  for (const cgroup of await nodeCgroups()) if (!cgroupsBefore.includes(cgroup)) await step(() => removeCgroup(cgroup))
  for (const [key, value] of Object.entries(before.sysctls)) {
    await step(async () => {
      if ((await readFile(`/proc/sys/${key}`, 'utf8')).trim() !== value) await writeFile(`/proc/sys/${key}`, value)
    })
  }
  for (const path of OUTSIDE_PATHS)
    if (!before.paths.includes(path)) await step(() => rm(path, { recursive: true, force: true }))
  if (errors.length > 0) throw new Error(`the node left something behind: ${errors.join('; ')}`)
}
