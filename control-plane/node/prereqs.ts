/**
 * What a node needs from the machine, checked before anything starts, each failure one line that
 * names what is missing: root, cgroups, and the Debian packages that provide containerd, runc, the
 * CNI plugins, nft, ip, gcc and nsenter. `ensureDebianPackages` installs missing packages when it can (root
 * with apt-get, saying what it installs), and otherwise throws with the one command to run.
 */
import { execFile } from 'node:child_process'
import { access, constants, readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** A file a package provides, and the Debian package. */
export interface Requirement { path: string, pkg: string }

/** What the node runs or calls, by the path Debian installs it at. */
export const NODE_REQUIREMENTS: readonly Requirement[] = [
  { path: '/usr/bin/containerd', pkg: 'containerd' },
  { path: '/usr/bin/containerd-shim-runc-v2', pkg: 'containerd' },
  { path: '/usr/bin/ctr', pkg: 'containerd' },
  { path: '/usr/sbin/runc', pkg: 'runc' },
  { path: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { path: '/usr/lib/cni/host-local', pkg: 'containernetworking-plugins' },
  { path: '/usr/lib/cni/loopback', pkg: 'containernetworking-plugins' },
  { path: '/usr/sbin/nft', pkg: 'nftables' },
  { path: '/usr/bin/gcc', pkg: 'gcc' },
  { path: '/usr/bin/nsenter', pkg: 'util-linux' },
  { path: '/usr/bin/ldd', pkg: 'libc-bin' }
]

/** What building lameduck's image needs (images/). */
export const IMAGE_REQUIREMENTS: readonly Requirement[] = [
  { path: '/usr/bin/buildah', pkg: 'buildah' },
  { path: '/usr/sbin/debootstrap', pkg: 'debootstrap' }
]

/** The demo's load balancer. */
export const DEMO_REQUIREMENTS: readonly Requirement[] = [{ path: '/usr/sbin/nginx', pkg: 'nginx' }]

async function present (path: string): Promise<boolean> {
  return await access(path, constants.X_OK).then(() => true, () => false)
}

/** The packages of `requirements` whose files are absent, each once, in order. */
export async function missingPackages (requirements: readonly Requirement[]): Promise<string[]> {
  const missing: string[] = []
  for (const { path, pkg } of requirements) if (!missing.includes(pkg) && !await present(path)) missing.push(pkg)
  return missing
}

/** The command that installs `packages`, for a message. */
export function installCommand (packages: readonly string[], root: boolean): string {
  return `${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`
}

/**
 * Installs the packages of `requirements` that are missing: as root with apt-get, saying what;
 * otherwise throws with the command to run.
 */
export async function ensureDebianPackages (
  requirements: readonly Requirement[],
  log: (line: string) => void
): Promise<void> {
  const missing = await missingPackages(requirements)
  if (missing.length === 0) return
  const root = process.getuid?.() === 0
  if (!root || !(await present('/usr/bin/apt-get')))
    throw new Error(
      `missing Debian packages: ${missing.join(' ')}; install them with: ${installCommand(missing, root)}`
    )
  log(`[node] installing Debian packages: ${missing.join(' ')} (apt-get update && ${installCommand(missing, true)})`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    await execFileAsync('apt-get', ['update', '-qq'], { env, maxBuffer: 64 << 20 })
    await execFileAsync('apt-get', ['install', '-y', '-qq', ...missing], { env, maxBuffer: 64 << 20 })
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-5).join('\n')
    throw new Error(`apt-get install ${missing.join(' ')} failed:\n${stderr}`, { cause: err })
  }
  const still = await missingPackages(requirements)
  if (still.length > 0) throw new Error(`missing Debian packages after apt-get install: ${still.join(' ')}`)
}

/** Throws one line when the machine cannot run a node: not root, or no cgroup memory controller. */
export async function checkNodeMachine (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('a node needs root (the kubelet, containerd and the Pod network change the machine); run as root')
  const v1 = await access('/sys/fs/cgroup/memory', constants.R_OK).then(() => true, () => false)
  const v2 = (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => '')).split(/\s+/).includes('memory')
  if (!v1 && !v2) throw new Error('a node needs cgroups with the memory controller (neither /sys/fs/cgroup/memory nor a cgroup v2 memory controller is there)')
}
