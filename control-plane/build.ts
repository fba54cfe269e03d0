/**
 * Builds etcd, kube-apiserver, kube-controller-manager and kubectl of the pinned release into
 * `.lameduck/bin/`, once, and for a node also kube-scheduler, kubelet, kube-proxy, agnhost and the
 * registry's crane (tools.ts): a stamp records the release, a hash of the recipe (wrapper go.mod and
 * go.sum, Go version, flags) and the binaries built with it, and a later call with the same recipe
 * is a no-op that says so.
 * Go's build cache is Go's default (`go env GOCACHE`, or $GOCACHE when set), so it outlives clones.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { goOutput, goStep } from './go.js'
import { withBuildLock } from './lock.js'
import { binaryNames, binaryPath, binDir, nodeBinaryNames, stampPath, type BinaryName } from './paths.js'
import { etcdModuleDir, kubernetesModuleDir, majorMinor, readRelease, type Release } from './release.js'
import { ensureTool } from './tools.js'

/** Bump when the way binaries are built changes, so that old stamps stop matching. */
const recipeRevision = 2
const buildFlags = ['-trimpath', '-buildvcs=false', '-mod=readonly']

/** Which module and package builds each binary. */
const packages: Record<BinaryName, { moduleDir: string, pkg: string }> = {
  etcd: { moduleDir: etcdModuleDir, pkg: 'go.etcd.io/etcd/server/v3' },
  'kube-apiserver': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  'kube-controller-manager': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  kubectl: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kubectl' },
  'kube-scheduler': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-scheduler' },
  kubelet: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kubelet' },
  'kube-proxy': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-proxy' },
  // cgo like the others (Go's default here), so it reuses their build cache: ~10 s instead of
  // ~6 min with CGO_ENABLED=0; its image then carries the glibc it links against (node/images.ts).
  agnhost: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/test/images/agnhost' }
}

interface Stamp { kubernetes: string, etcd: string, recipe: string, goVersion: string, builtAt: string, seconds: number, binaries?: BinaryName[] }

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

/** A short hash of everything that decides what gets built. */
async function recipeHash (release: Release, goVersion: string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ recipeRevision, buildFlags, release, goVersion }))
  for (const dir of [kubernetesModuleDir, etcdModuleDir]) {
    for (const file of ['go.mod', 'go.sum']) hash.update(await readFile(join(dir, file)))
  }
  return hash.digest('hex').slice(0, 16)
}

async function readStamp (): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(stampPath, 'utf8')) as Stamp
  } catch {
    return undefined
  }
}

/** The binaries of `wanted` that the current recipe has not built yet (all of them when it changed). */
async function missing (recipe: string, wanted: readonly BinaryName[]): Promise<BinaryName[]> {
  const stamp = await readStamp()
  if (stamp?.recipe !== recipe) return [...wanted]
  const built: readonly BinaryName[] = stamp.binaries ?? binaryNames
  const present = await Promise.all(wanted.map(async (name) => built.includes(name) && await stat(binaryPath(name)).then(() => true, () => false)))
  return wanted.filter((_, i) => !present[i])
}

/** The release's publication time, used as the reproducible buildDate. */
async function releaseTime (version: string): Promise<string> {
  const info = JSON.parse(await goOutput(['list', '-m', '-json', `k8s.io/kubernetes@${version}`], { cwd: kubernetesModuleDir })) as { Time?: string }
  return (info.Time ?? '1970-01-01T00:00:00Z').replace(/\.\d+Z$/, 'Z')
}

async function buildAll (release: Release, goVersion: string, recipe: string, names: readonly BinaryName[], log: (line: string) => void): Promise<void> {
  const started = Date.now()
  const total = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`
  log(`[build] building ${names.join(', ')} (Kubernetes ${release.kubernetes}, etcd ${release.etcd}) with ${goVersion} into ${binDir} (a first build of the control plane takes about 7 min on an idle 2-core machine, a node's binaries about 2 min more)`)
  const previous = await readStamp()
  const kept = previous?.recipe === recipe ? (previous.binaries ?? [...binaryNames]).filter((name) => !names.includes(name)) : []
  await rm(stampPath, { force: true })
  await mkdir(binDir, { recursive: true })
  for (const dir of [etcdModuleDir, kubernetesModuleDir]) {
    log(`[build] downloading modules for ${dir}`)
    await goStep('go mod download', ['mod', 'download'], { cwd: dir, log })
  }
  const ldflags = kubernetesLdflags(release.kubernetes, await releaseTime(release.kubernetes))
  for (const [index, name] of names.entries()) {
    const { moduleDir, pkg } = packages[name]
    log(`[build] (${index + 1}/${names.length}) ${name}: go build ${pkg}`)
    const out = `${binaryPath(name)}.partial`
    const flags = name === 'etcd' || name === 'agnhost' ? '-s -w' : ldflags
    const seconds = await goStep(name, ['build', ...buildFlags, '-ldflags', flags, '-o', out, pkg], { cwd: moduleDir, log })
    await rename(out, binaryPath(name))
    log(`[build] ${name} built in ${seconds.toFixed(0)} s (total ${total()})`)
  }
  const stamp: Stamp = { ...release, recipe, goVersion, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), binaries: [...kept, ...names] }
  await writeFile(stampPath, JSON.stringify(stamp, null, 2) + '\n')
  log(`[build] done: all binaries built in ${total()}`)
}

/**
 * Makes sure the binaries of the pinned release are in `.lameduck/bin/`, building them when the
 * stamp is missing or stale; `node` adds the node's. Concurrent callers (parallel test files) wait
 * for one build.
 */
export async function ensureBinaries (opts: { log?: (line: string) => void, node?: boolean } = {}): Promise<{ binDir: string, version: string }> {
  const log = opts.log ?? ((line: string) => { console.error(line) })
  const release = await readRelease()
  const goVersion = (await goOutput(['env', 'GOVERSION'], { cwd: kubernetesModuleDir })).trim()
  const recipe = await recipeHash(release, goVersion)
  const wanted: BinaryName[] = [...binaryNames, ...(opts.node === true ? nodeBinaryNames : [])]
  if ((await missing(recipe, wanted)).length > 0) {
    await withBuildLock(log, async () => {
      const names = await missing(recipe, wanted)
      if (names.length === 0) {
        log(`[build] another process built Kubernetes ${release.kubernetes} / etcd ${release.etcd} meanwhile; nothing to build`)
        return
      }
      await buildAll(release, goVersion, recipe, names, log)
    })
  } else {
    log(`[build] binaries for Kubernetes ${release.kubernetes} / etcd ${release.etcd} are up to date (recipe ${recipe}); nothing to build`)
  }
  // The node's registry (registry.ts): a wrapper module of its own (tools.ts).
  if (opts.node === true) await ensureTool('crane', log)
  return { binDir, version: release.kubernetes }
}
