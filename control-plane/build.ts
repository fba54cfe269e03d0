/**
 * Builds etcd, kube-apiserver, kube-controller-manager, kubectl and helm of the pinned releases into
 * `.lameduck/bin/`, once, and for a node also kube-scheduler, kubelet, kube-proxy, agnhost, the
 * registry and crane (tools.ts): a stamp records each binary's recipe (a hash of its wrapper module's
 * go.mod and go.sum, the Go version, the flags), and a later call with the same recipes is a no-op
 * that says so; a change to one module rebuilds only the binaries it builds.
 * Go's build cache is Go's default (`go env GOCACHE`, or $GOCACHE when set), so it outlives clones.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { goOutput, goStep } from './go.js'
import { withBuildLock } from './lock.js'
import { binaryNames, binaryPath, binDir, nodeBinaryNames, stampPath, type BinaryName } from './paths.js'
import { etcdModuleDir, helmModuleDir, kubernetesModuleDir, majorMinor, readRelease, type Release } from './release.js'
import { ensureTool } from './tools.js'

/** Bump when the way binaries are built changes, so that old stamps stop matching. */
const recipeRevision = 3
const buildFlags = ['-trimpath', '-buildvcs=false', '-mod=readonly']

/** Which module and package builds each binary. */
const packages: Record<BinaryName, { moduleDir: string, pkg: string }> = {
  etcd: { moduleDir: etcdModuleDir, pkg: 'go.etcd.io/etcd/server/v3' },
  'kube-apiserver': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  'kube-controller-manager': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  kubectl: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kubectl' },
  // A module of its own, at the versions Helm's go.mod pins (README.md, "Helm"). cgo like the
  // others (Helm's Makefile turns it off), so that the standard library's cache entries are shared.
  helm: { moduleDir: helmModuleDir, pkg: 'helm.sh/helm/v4/cmd/helm' },
  'kube-scheduler': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-scheduler' },
  kubelet: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kubelet' },
  'kube-proxy': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-proxy' },
  // cgo like the others (Go's default here), so it reuses their build cache: ~10 s instead of
  // ~6 min with CGO_ENABLED=0; its image then carries the glibc it links against (node/images.ts).
  agnhost: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/test/images/agnhost' }
}

/** `built`: each binary's recipe when it was built. */
interface Stamp {
  kubernetes: string
  etcd: string
  helm: string
  goVersion: string
  builtAt: string
  seconds: number
  built: Partial<Record<BinaryName, string>>
}

/**
 * `-ldflags` for the Kubernetes binaries: stripped, and the version variables hack/lib/version.sh
 * sets, so that /version and `kubectl version` report the release rather than v0.0.0-master.
 */
export function kubernetesLdflags (version: string, buildDate: string): string {
  const { major, minor } = majorMinor(version)
  const values = { gitVersion: version, gitMajor: major, gitMinor: minor, gitCommit: '', gitTreeState: 'clean', buildDate }
  const flags = ['-s', '-w']
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    for (const [key, value] of Object.entries(values)) flags.push(`-X ${pkg}.${key}=${value}`)
  }
  return flags.join(' ')
}

/** `-ldflags` for helm: stripped, and the version its Makefile sets, so that `helm version` says v4.x.y, not v4.x. */
export function helmLdflags (version: string): string {
  const pkg = 'helm.sh/helm/v4/internal/version'
  return ['-s', '-w', `-X ${pkg}.version=${version}`, `-X ${pkg}.gitTreeState=clean`].join(' ')
}

/** Each binary's recipe: a short hash of everything that decides what gets built, its module's files included. */
async function recipes (goVersion: string): Promise<Record<BinaryName, string>> {
  const byModule = new Map<string, string>()
  for (const dir of new Set(Object.values(packages).map(({ moduleDir }) => moduleDir))) {
    // The go.mod names the release, so a new one changes the hash, and only its own binaries'.
    const hash = createHash('sha256').update(JSON.stringify({ recipeRevision, buildFlags, goVersion }))
    for (const file of ['go.mod', 'go.sum']) hash.update(await readFile(join(dir, file)))
    byModule.set(dir, hash.digest('hex').slice(0, 16))
  }
  const names = Object.keys(packages) as BinaryName[]
  const recipe = names.map(name => [name, byModule.get(packages[name].moduleDir)!])
  return Object.fromEntries(recipe) as Record<BinaryName, string>
}

async function readStamp (): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(stampPath, 'utf8')) as Stamp
  } catch {
    return undefined
  }
}

/** The binaries of `wanted` that their current recipe has not built yet (a stamp of another format counts as none). */
async function missing (recipe: Record<BinaryName, string>, wanted: readonly BinaryName[]): Promise<BinaryName[]> {
  const built = (await readStamp())?.built ?? {}
  const exists = async (name: BinaryName): Promise<boolean> =>
    await stat(binaryPath(name)).then(() => true, () => false)
  const present = await Promise.all(wanted.map(async (name) => built[name] === recipe[name] && await exists(name)))
  return wanted.filter((_, i) => !present[i])
}

/** The release's publication time, used as the reproducible buildDate. */
async function releaseTime (version: string): Promise<string> {
  const info = JSON.parse(await goOutput(['list', '-m', '-json', `k8s.io/kubernetes@${version}`], { cwd: kubernetesModuleDir })) as { Time?: string }
  return (info.Time ?? '1970-01-01T00:00:00Z').replace(/\.\d+Z$/, 'Z')
}

/** The `-ldflags` of binary `name`. */
async function ldflagsOf (name: BinaryName, release: Release, kubernetes: () => Promise<string>): Promise<string> {
  if (name === 'helm') return helmLdflags(release.helm)
  return name === 'etcd' || name === 'agnhost' ? '-s -w' : await kubernetes()
}

async function buildAll (release: Release, goVersion: string, recipe: Record<BinaryName, string>,
  names: readonly BinaryName[], log: (line: string) => void): Promise<void> {
  const started = Date.now()
  const total = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`
  const versions = `Kubernetes ${release.kubernetes}, etcd ${release.etcd}, Helm ${release.helm}`
  log(`[build] building ${names.join(', ')} (${versions}) with ${goVersion} into ${binDir} ` +
    '(a first build of the control plane takes about 7 min on an idle 2-core machine, ' +
    'Helm about 3 min more, a node\'s binaries about 2 min more)')
  // What the stamp says was built with today's recipes stays; what is rebuilt now is added as each finishes.
  const previous = (await readStamp())?.built ?? {}
  const current = ([name, hash]: [string, string | undefined]): boolean =>
    recipe[name as BinaryName] === hash && !names.includes(name as BinaryName)
  const built: Partial<Record<BinaryName, string>> = Object.fromEntries(Object.entries(previous).filter(current))
  await rm(stampPath, { force: true })
  await mkdir(binDir, { recursive: true })
  for (const dir of new Set(names.map(name => packages[name].moduleDir))) {
    log(`[build] downloading modules for ${dir}`)
    await goStep('go mod download', ['mod', 'download'], { cwd: dir, log })
  }
  let kubernetes: string | undefined
  const kubernetesFlags = async (): Promise<string> =>
    (kubernetes ??= kubernetesLdflags(release.kubernetes, await releaseTime(release.kubernetes)))
  const writeStamp = async (): Promise<void> => {
    const seconds = Math.round((Date.now() - started) / 1000)
    const stamp: Stamp = { ...release, goVersion, builtAt: new Date().toISOString(), seconds, built }
    await writeFile(stampPath, JSON.stringify(stamp, null, 2) + '\n')
  }
  for (const [index, name] of names.entries()) {
    const { moduleDir, pkg } = packages[name]
    log(`[build] (${index + 1}/${names.length}) ${name}: go build ${pkg}`)
    const out = `${binaryPath(name)}.partial`
    const flags = await ldflagsOf(name, release, kubernetesFlags)
    const seconds = await goStep(name, ['build', ...buildFlags, '-ldflags', flags, '-o', out, pkg], { cwd: moduleDir, log })
    await rename(out, binaryPath(name))
    built[name] = recipe[name]
    await writeStamp()
    log(`[build] ${name} built in ${seconds.toFixed(0)} s (total ${total()})`)
  }
  log(`[build] done: all binaries built in ${total()}`)
}

/**
 * Makes sure the binaries of the pinned release are in `.lameduck/bin/`, building them when the
 * stamp is missing or stale; `node` adds the node's, `only` asks for just those (a release needs
 * helm alone). Concurrent callers (parallel test files) wait for one build.
 */
export async function ensureBinaries (opts: { log?: (line: string) => void, node?: boolean, only?: BinaryName[] } = {}):
Promise<{ binDir: string, version: string }> {
  const log = opts.log ?? ((line: string) => { console.error(line) })
  const release = await readRelease()
  const goVersion = (await goOutput(['env', 'GOVERSION'], { cwd: kubernetesModuleDir })).trim()
  const recipe = await recipes(goVersion)
  const versions = `Kubernetes ${release.kubernetes} / etcd ${release.etcd} / Helm ${release.helm}`
  const wanted: BinaryName[] = opts.only ?? [...binaryNames, ...(opts.node === true ? nodeBinaryNames : [])]
  if ((await missing(recipe, wanted)).length > 0) {
    await withBuildLock(log, async () => {
      const names = await missing(recipe, wanted)
      if (names.length === 0) {
        log(`[build] another process built ${versions} meanwhile; nothing to build`)
        return
      }
      await buildAll(release, goVersion, recipe, names, log)
    })
  } else {
    log(`[build] binaries for ${versions} are up to date; nothing to build`)
  }
  // The nodes' registry (registry.ts) and crane, which pushes to it: a wrapper module of their own (tools.ts).
  if (opts.node === true) {
    await ensureTool('crane', log)
    await ensureTool('registry', log)
  }
  return { binDir, version: release.kubernetes }
}
