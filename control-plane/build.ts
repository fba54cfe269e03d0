/**
 * Builds etcd, kube-apiserver, kube-controller-manager and kubectl of the pinned release into
 * `.lameduck/bin/`, once: a stamp records the release and a hash of the recipe (wrapper go.mod and
 * go.sum, Go version, flags), and a later call with the same recipe is a no-op that says so.
 * Go's build cache is Go's default (`go env GOCACHE`, or $GOCACHE when set), so it outlives clones.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { goOutput, goStep } from './go.js'
import { withBuildLock } from './lock.js'
import { binaryNames, binaryPath, binDir, stampPath, type BinaryName } from './paths.js'
import { etcdModuleDir, kubernetesModuleDir, majorMinor, readRelease, type Release } from './release.js'

/** Bump when the way binaries are built changes, so that old stamps stop matching. */
const recipeRevision = 1
const buildFlags = ['-trimpath', '-buildvcs=false', '-mod=readonly']

/** Which module and package builds each binary. */
const packages: Record<BinaryName, { moduleDir: string, pkg: string }> = {
  etcd: { moduleDir: etcdModuleDir, pkg: 'go.etcd.io/etcd/server/v3' },
  'kube-apiserver': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  'kube-controller-manager': { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  kubectl: { moduleDir: kubernetesModuleDir, pkg: 'k8s.io/kubernetes/cmd/kubectl' }
}

interface Stamp { kubernetes: string, etcd: string, recipe: string, goVersion: string, builtAt: string, seconds: number }

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

async function upToDate (recipe: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as Stamp
    if (stamp.recipe !== recipe) return false
    await Promise.all(binaryNames.map((name) => stat(binaryPath(name))))
    return true
  } catch {
    return false
  }
}

/** The release's publication time, used as the reproducible buildDate. */
async function releaseTime (version: string): Promise<string> {
  const info = JSON.parse(await goOutput(['list', '-m', '-json', `k8s.io/kubernetes@${version}`], { cwd: kubernetesModuleDir })) as { Time?: string }
  return (info.Time ?? '1970-01-01T00:00:00Z').replace(/\.\d+Z$/, 'Z')
}

async function buildAll (release: Release, goVersion: string, recipe: string, log: (line: string) => void): Promise<void> {
  const started = Date.now()
  const total = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`
  log(`[build] building Kubernetes ${release.kubernetes} and etcd ${release.etcd} with ${goVersion} into ${binDir} (a first build takes about 7 min on an idle 2-core machine)`)
  await rm(stampPath, { force: true })
  await mkdir(binDir, { recursive: true })
  for (const dir of [etcdModuleDir, kubernetesModuleDir]) {
    log(`[build] downloading modules for ${dir}`)
    await goStep('go mod download', ['mod', 'download'], { cwd: dir, log })
  }
  const ldflags = kubernetesLdflags(release.kubernetes, await releaseTime(release.kubernetes))
  for (const [index, name] of binaryNames.entries()) {
    const { moduleDir, pkg } = packages[name]
    log(`[build] (${index + 1}/${binaryNames.length}) ${name}: go build ${pkg}`)
    const out = `${binaryPath(name)}.partial`
    const flags = name === 'etcd' ? '-s -w' : ldflags
    const seconds = await goStep(name, ['build', ...buildFlags, '-ldflags', flags, '-o', out, pkg], { cwd: moduleDir, log })
    await rename(out, binaryPath(name))
    log(`[build] ${name} built in ${seconds.toFixed(0)} s (total ${total()})`)
  }
  const stamp: Stamp = { ...release, recipe, goVersion, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }
  await writeFile(stampPath, JSON.stringify(stamp, null, 2) + '\n')
  log(`[build] done: all binaries built in ${total()}`)
}

/**
 * Makes sure the binaries of the pinned release are in `.lameduck/bin/`, building them when the
 * stamp is missing or stale. Concurrent callers (parallel test files) wait for one build.
 */
export async function ensureBinaries (opts: { log?: (line: string) => void } = {}): Promise<{ binDir: string, version: string }> {
  const log = opts.log ?? ((line: string) => { console.error(line) })
  const release = await readRelease()
  const goVersion = (await goOutput(['env', 'GOVERSION'], { cwd: kubernetesModuleDir })).trim()
  const recipe = await recipeHash(release, goVersion)
  if (!await upToDate(recipe)) {
    await withBuildLock(log, async () => {
      if (await upToDate(recipe)) {
        log(`[build] another process built Kubernetes ${release.kubernetes} / etcd ${release.etcd} meanwhile; nothing to build`)
        return
      }
      await buildAll(release, goVersion, recipe, log)
    })
  } else {
    log(`[build] binaries for Kubernetes ${release.kubernetes} / etcd ${release.etcd} are up to date (recipe ${recipe}); nothing to build`)
  }
  return { binDir, version: release.kubernetes }
}
