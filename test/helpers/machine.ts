/**
 * What nodes could leave behind on the machine, as one comparable snapshot: the node tests take
 * one before the nodes start and one after they stopped, and they must be equal (processes, mounts,
 * network namespaces, links, nftables and iptables rules, the nodes' cgroups, kernel settings,
 * paths outside the nodes' directories). nftables rules inside a node's own network namespace go
 * with the namespace, which the snapshot lists.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { acquireNodeLock, releaseNodeLock } from '../../control-plane/lock.js'
import { KUBELET_SYSCTLS, netnsNames, nodeCgroups, OUTSIDE_PATHS } from '../../control-plane/node/system.js'

const execFileAsync = promisify(execFile)
const out = async (command: string, args: string[]): Promise<string> => (await execFileAsync(command, args)).stdout

/** A snapshot; every field compares with t.same. */
export interface MachineSnapshot {
  processes: string[]
  mounts: string[]
  netns: string[]
  links: string[]
  nftRuleset: string
  iptables: string[]
  cgroups: string[]
  sysctls: Record<string, string>
  paths: string[]
}

/** Processes that belong to a node: its binaries, containerd and its shims, pause, the cluster DNS and the janitor. */
async function nodeProcesses (): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
    const exe = args[0] ?? ''
    const names = 'kubelet|kube-proxy|kube-scheduler|containerd|containerd-shim-runc-v2|pause|agnhost'
    const binary = new RegExp(`(^|/)(${names})$`).test(exe)
    if (binary || args.some(arg => arg.endsWith('dns-server.ts') || arg.endsWith('janitor.ts'))) {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
      if (stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push(`${entry} ${args.join(' ')}`)
    }
  }
  return found
}

/** The machine now. `roots`: directories whose mounts count (the cluster's). */
export async function snapshotMachine (roots: readonly string[] = []): Promise<MachineSnapshot> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8')
  const watched = [...roots, ...OUTSIDE_PATHS]
  const mounts = mountinfo.split('\n').map(line => line.split(' ')[4] ?? '').filter(p => watched.some(root => p === root || p.startsWith(`${root}/`)))
  const sysctls: Record<string, string> = {}
  for (const key of KUBELET_SYSCTLS) sysctls[key] = (await readFile(`/proc/sys/${key}`, 'utf8')).trim()
  const paths: string[] = []
  for (const path of OUTSIDE_PATHS) if (await readdir(path).then(() => true, () => false)) paths.push(path)
  return {
    processes: await nodeProcesses(),
    mounts: mounts.sort(),
    netns: (await netnsNames()).sort(),
    links: (await out('ip', ['-br', 'link'])).split('\n').map(line => line.split(/\s+/)[0]!).filter(Boolean).sort(),
    nftRuleset: await out('nft', ['list', 'ruleset']),
    iptables: (await out('iptables-save', [])).split('\n').filter(line => line.startsWith('-') || line.startsWith(':') || line.startsWith('*')).map(line => line.replace(/\[\d+:\d+\]/, '')),
    cgroups: await nodeCgroups(),
    sysctls,
    paths
  }
}

/** The test file that waits: it hears about the wait, and its time limit does not run out meanwhile. */
interface Waiter { comment: (line: string) => void, setTimeout: (ms: number) => void }

/**
 * The machine while no node runs: the snapshot is taken holding the node lock, so that another
 * test's node (on a machine shared by several checkouts) never shows in it. A node that starts
 * between a cluster's stop and this call is waited for (not counted against `waiter`'s time limit:
 * give the test file), and must have cleaned up after itself too.
 */
export async function snapshotMachineAlone (roots: readonly string[] = [], waiter?: Waiter): Promise<MachineSnapshot> {
  await acquireNodeLock(line => {
    waiter?.comment(line)
    waiter?.setTimeout(600_000)
  })
  try {
    return await snapshotMachine(roots)
  } finally {
    await releaseNodeLock(process.pid)
  }
}
