/**
 * Generates the committed wrapper modules that build a Kubernetes release and etcd from Go modules:
 *
 *   npx tsx control-plane/modules.ts v1.37.2 [--etcd v3.7.0] [--helm v4.3.2]
 *
 * `go install k8s.io/kubernetes/cmd/...@v1.x` does not work: k8s.io/kubernetes requires its staging
 * modules (k8s.io/api, k8s.io/client-go, …) at v0.0.0 and replaces them with ./staging/src/… paths,
 * and replace lines only apply in the main module. So the wrapper requires k8s.io/kubernetes and
 * repeats the release's own replace block, pointing each staging module at its published v0.x.y
 * (https://github.com/kubernetes/kubernetes/issues/79384). etcd's server module likewise replaces
 * its siblings; the wrapper requires them all at one version. `go mod tidy` then writes go.sum.
 * etcd defaults to the version the release itself requires. Helm has no replace lines: its wrapper
 * only requires it, so that its go.sum is committed like the others; it is a module of its own (not
 * a tool of the Kubernetes wrapper), so that its dependencies never move the Kubernetes binaries'
 * (control-plane/README.md, "Helm"). Helm defaults to the version pinned now.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { goOutput } from './go.js'
import { etcdModuleDir, helmModuleDir, kubernetesModuleDir, readRelease, requiredVersion } from './release.js'

/**
 * The commands the wrappers build, as Go 1.24+ `tool` directives (tidy then keeps their deps): the control plane's,
 * then a node's.
 */
const kubernetesTools = ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager', 'k8s.io/kubernetes/cmd/kubectl',
  'k8s.io/kubernetes/cmd/kube-proxy', 'k8s.io/kubernetes/cmd/kube-scheduler', 'k8s.io/kubernetes/cmd/kubelet', 'k8s.io/kubernetes/test/images/agnhost']
const etcdTool = 'go.etcd.io/etcd/server/v3'
const helmTool = 'helm.sh/helm/v4/cmd/helm'

/** The `module => target` lines of a go.mod's replace block. */
export function replaceLines (goMod: string): Array<{ module: string, target: string }> {
  const block = /^replace \(\n([\s\S]*?)^\)/m.exec(goMod)
  if (block === null) throw new Error('the go.mod has no replace block')
  return block[1]!.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('//')).map((line) => {
    const match = /^\s*(\S+) => (\S+)$/.exec(line)
    if (match === null) throw new Error(`unexpected replace line: ${line.trim()}`)
    return { module: match[1]!, target: match[2]! }
  })
}

/** The staging modules named in a release go.mod's replace block, checked to be staging paths. */
export function stagingReplaces (goMod: string): string[] {
  return replaceLines(goMod).map(({ module, target }) => {
    if (target !== `./staging/src/${module}`) throw new Error(`unexpected replace line: ${module} => ${target}`)
    return module
  })
}

/** The sibling modules etcd's server go.mod replaces with local paths (api, client, pkg). */
export function etcdSiblings (goMod: string): string[] {
  return replaceLines(goMod).map(({ module, target }) => {
    if (!module.startsWith('go.etcd.io/etcd/') || !target.startsWith('../')) throw new Error(`unexpected replace line: ${module} => ${target}`)
    return module
  })
}

/** The wrapper go.mod for a Kubernetes release, before tidy. */
export function kubernetesGoMod (version: string, goDirective: string, staging: string[]): string {
  const stagingVersion = version.replace(/^v1\./, 'v0.')
  return [
    'module lameduck.local/kubernetes', '', `go ${goDirective}`, '', `require k8s.io/kubernetes ${version}`, '',
    '// The release go.mod\'s replace block, with each ./staging/src/k8s.io/X at its published version.',
    'replace (', ...staging.map((m) => `\t${m} => ${m} ${stagingVersion}`), ')', '',
    'tool (', ...kubernetesTools.map((t) => `\t${t}`), ')', ''
  ].join('\n')
}

/** The wrapper go.mod for etcd: the server and the siblings it replaces, all at one version. */
export function etcdGoMod (version: string, goDirective: string, siblings: string[]): string {
  return [
    'module lameduck.local/etcd', '', `go ${goDirective}`, '',
    '// etcd\'s server go.mod replaces these with ../ paths; here they are required at the same version.',
    'require (', ...[etcdTool, ...siblings].map((m) => `\t${m} ${version}`), ')', '',
    `tool ${etcdTool}`, ''
  ].join('\n')
}

/** The wrapper go.mod for Helm: the module, at one version, and its command as a tool. */
export function helmGoMod (version: string, goDirective: string): string {
  const lines = ['module lameduck.local/helm', '', `go ${goDirective}`, '', `require helm.sh/helm/v4 ${version}`, '']
  return [...lines, `tool ${helmTool}`, ''].join('\n')
}

async function moduleFile (module: string, version: string, file: string): Promise<string> {
  const info = JSON.parse(await goOutput(['mod', 'download', '-json', `${module}@${version}`], { cwd: kubernetesModuleDir })) as { Dir: string }
  return readFile(join(info.Dir, file), 'utf8')
}

function goDirectiveOf (goMod: string): string {
  return /^go (\S+)$/m.exec(goMod)?.[1] ?? '1.24.0'
}

async function writeModule (dir: string, goMod: string): Promise<void> {
  await writeFile(join(dir, 'go.mod'), goMod)
  await writeFile(join(dir, 'go.sum'), '')
  await goOutput(['mod', 'tidy'], { cwd: dir })
}

async function main (argv: string[]): Promise<void> {
  const version = argv[0]
  if (version === undefined || !/^v1\.\d+\.\d+$/.test(version)) {
    throw new Error('usage: modules.ts v1.X.Y [--etcd v3.X.Y] [--helm v4.X.Y]')
  }
  for (const dir of [kubernetesModuleDir, etcdModuleDir, helmModuleDir]) await mkdir(dir, { recursive: true })
  const releaseGoMod = await moduleFile('k8s.io/kubernetes', version, 'go.mod')
  const etcdFlag = argv.indexOf('--etcd')
  const etcd = etcdFlag >= 0 ? argv[etcdFlag + 1]! : requiredVersion(releaseGoMod, 'go.etcd.io/etcd/server/v3', 'the release go.mod')
  await writeModule(
    kubernetesModuleDir,
    kubernetesGoMod(version, goDirectiveOf(releaseGoMod), stagingReplaces(releaseGoMod))
  )
  const etcdServerGoMod = await moduleFile('go.etcd.io/etcd/server/v3', etcd, 'go.mod')
  await writeModule(etcdModuleDir, etcdGoMod(etcd, goDirectiveOf(etcdServerGoMod), etcdSiblings(etcdServerGoMod)))
  const helmFlag = argv.indexOf('--helm')
  const helm = helmFlag >= 0 ? argv[helmFlag + 1]! : (await readRelease()).helm
  await writeModule(helmModuleDir, helmGoMod(helm, goDirectiveOf(await moduleFile('helm.sh/helm/v4', helm, 'go.mod'))))
  console.log(`wrapper modules written in control-plane/modules/: Kubernetes ${version}, etcd ${etcd}, Helm ${helm}`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
