/**
 * A node's processes that nobody recorded: its containers (found by the node's cgroups) and
 * containerd's shims for its socket, which outlive containerd.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { nodePaths, nodeSpec } from './config.js'
import type { NodeState } from './state.js'

/** PIDs of the processes in the node's cgroups: its containers. */
export async function containerPids (state: NodeState): Promise<number[]> {
  const pids: number[] = []
  const walk = async (path: string): Promise<void> => {
    const procs = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '')
    for (const pid of procs.split('\n').filter(Boolean)) pids.push(Number(pid))
    for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(path, entry.name))
    }
  }
  const root = nodeSpec(state.index).cgroupRoot
  for (const hierarchy of ['pids', 'unified', '']) await walk(join('/sys/fs/cgroup', hierarchy, root))
  return [...new Set(pids)]
}

/** containerd's shims for this node's socket: they outlive containerd, so they are stopped by PID. */
export async function shimPids (state: NodeState): Promise<number[]> {
  const socket = nodePaths(state.dir).containerdSocket
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
    if (args[0]?.endsWith('containerd-shim-runc-v2') === true && args.includes(socket)) pids.push(Number(entry))
  }
  return pids
}

/** SIGKILLs the processes in the node's cgroups until none is left, for up to 5 s. */
export async function killContainers (state: NodeState): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const pids = await containerPids(state)
    if (pids.length === 0) return
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
    await sleep(100)
  }
  throw new Error(`still running in ${state.name}'s cgroups: ${(await containerPids(state)).join(', ')}`)
}
