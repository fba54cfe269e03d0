// `npm run release` as a user runs it (root, for buildah): the folder's files, `sha256sum -c`
// passing, two runs on the same commit writing the same chart, install.yaml and image archives, and
// install.yaml's image a digest a registry serves once the archive is pushed to one (crane's, on
// loopback, as the release workflow pushes it), the same the packaged chart's values pin. The SBOM
// when syft is built on this machine (CI does not build it: docs/release.md). Then the refusals, in
// a clone of this commit: uncommitted changes, versions that disagree, a non-empty --out, a bad
// flag.
import t from 'tap'
import { execFile } from 'node:child_process'
import https from 'node:https'
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { parse, parseAllDocuments } from 'yaml'
import { repoRoot } from '../../control-plane/paths.js'
import { pushImage } from '../../control-plane/images/push.js'
import { parseReference } from '../../control-plane/images/reference.js'
import { freePorts } from '../../control-plane/ports.js'
import { stopProcesses } from '../../control-plane/processes.js'
import { startRegistry } from '../../control-plane/registry.js'
import { makeRegistryTls } from '../../control-plane/registry-tls.js'
import { isToolCurrent } from '../../control-plane/tools.js'

const exec = promisify(execFile)
const version = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
const withSbom = await isToolCurrent('syft')

/** `npm run release -- ARGS` in `cwd`: its exit code and output. */
async function release (args: string[], cwd = repoRoot): Promise<{ code: number, out: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'release/main.ts', ...args], { cwd, maxBuffer: 16 << 20 })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, out: e.stdout + e.stderr }
  }
}

/** The lameduck container's image in install.yaml. */
function installImage (installYaml: string): string {
  type PodSpec = { containers?: Array<{ name: string, image: string }> }
  for (const doc of parseAllDocuments(installYaml)) {
    const object = doc.toJSON() as { kind?: string, spec?: { template?: { spec?: PodSpec } } } | null
    if (object?.kind !== 'Deployment') continue
    const image = object.spec?.template?.spec?.containers?.find(c => c.name === 'lameduck')?.image
    if (image !== undefined) return image
  }
  throw new Error('install.yaml has no lameduck Deployment')
}

t.setTimeout(30 * 60_000) // a first build of the image (and of syft) may take long; later ~1 min
// One fixture folder per test: two t.testdir() calls of one test would be the same folder.
const fixtures = t.testdir({ first: {}, second: {} })
const first = join(fixtures, 'first')
const second = join(fixtures, 'second')

t.test('a release: its files, sha256sum -c, and a second run writes the same chart, install, image', async t => {
  const a = await release(['--out', join(first, 'r'), ...(withSbom ? [] : ['--no-sbom'])])
  t.comment(a.out)
  t.equal(a.code, 0, 'the first run')
  const b = await release(['--out', join(second, 'r'), '--no-sbom'])
  t.equal(b.code, 0, 'the second run', { out: b.out })
  const files = [
    `lameduck-${version}.tgz`, 'install.yaml', `lameduck-${version}.oci.tar`, `lameduck-pause-${version}.oci.tar`,
    'SHA256SUMS'
  ]
  const sbom = withSbom ? [`lameduck-${version}.spdx.json`] : []
  t.same((await readdir(join(first, 'r'))).sort(), [...files, ...sbom].sort())
  for (const [dir, which] of [[first, 'the first'], [second, 'the second']] as const) {
    const { stdout } = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(dir, 'r') })
    t.match(stdout, /^install\.yaml: OK$/m, `sha256sum -c in ${which}`)
  }
  for (const file of files.slice(0, 4)) {
    const [a, b] = await Promise.all([first, second].map(dir => readFile(join(dir, 'r', file))))
    t.ok(a!.equals(b!), `${file}: the same bytes`)
  }
})

t.test('install.yaml pins the image by a digest a registry serves once the archive is pushed', async t => {
  const image = installImage(await readFile(join(first, 'r', 'install.yaml'), 'utf8'))
  const [, repository, digest] = /^(.+)@(sha256:[0-9a-f]{64})$/.exec(image) ?? []
  t.ok(digest, `${image}: pinned by digest`)
  const [port] = await freePorts(1)
  const address = `127.0.0.1:${port!}`
  const dirs = t.testdir({ registry: {}, storage: {}, layout: {} })
  // Over HTTPS into an empty registry, as a fresh clone's first node start pushes: over HTTP/2 that
  // push once hung for good (control-plane/modules/crane/registry/main.go says why).
  const tls = await makeRegistryTls(dirs, '127.0.0.1')
  const registry = await startRegistry({ address, dir: join(dirs, 'registry'), storage: join(dirs, 'storage'), tls })
  t.teardown(() => stopProcesses([registry.pid]))
  const layout = join(dirs, 'layout')
  await exec('tar', ['-xf', join(first, 'r', `lameduck-${version}.oci.tar`), '-C', layout])
  const pushed = pushImage(layout, `${repository!}:${version}`, { address, ca: tls.ca })
  await Promise.race([pushed, sleep(120_000, undefined, { ref: false }).then(() => { throw new Error('crane push still running after 120 s') })])
  const { path } = parseReference(`${repository!}:${version}`)
  const accept = 'application/vnd.oci.image.manifest.v1+json'
  const res = await manifestOf(`https://${address}/v2/${path}/manifests/${digest!}`, accept, await readFile(tls.ca, 'utf8'))
  t.equal(res.status, 200, 'the registry serves the digest')
  t.equal(res.digest, digest, 'as that digest')
  // The packaged chart's values name the same image: helm install of it, with no --set image.*, pulls it.
  const tgz = join(first, 'r', `lameduck-${version}.tgz`)
  const values = (await exec('tar', ['-xzOf', tgz, 'lameduck/values.yaml'])).stdout
  const packaged = (parse(values) as { image: Record<string, string> }).image
  t.match(packaged, { repository, tag: version, digest }, 'the chart\'s values: its repository, the version, its digest')
})

/** GET of a manifest over HTTPS trusting `ca`: its status and Docker-Content-Digest. */
function manifestOf (url: string, accept: string, ca: string): Promise<{ status: number, digest: unknown }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers: { accept } }, res => {
      res.resume().on('end', () => { resolve({ status: res.statusCode!, digest: res.headers['docker-content-digest'] }) })
    }).on('error', reject)
  })
}

interface Spdx {
  spdxVersion: string
  creationInfo: { creators: string[] }
  packages: Array<{ name: string, externalRefs?: Array<{ referenceLocator: string }> }>
}

const noSyft = 'syft is not built here (CI does not build it: docs/release.md)'
const sbomSkip = { skip: withSbom ? false : noSyft }
t.test('the SBOM: SPDX by syft, with Debian\'s and npm\'s packages and Node', sbomSkip, async t => {
  const sbom = JSON.parse(await readFile(join(first, 'r', `lameduck-${version}.spdx.json`), 'utf8')) as Spdx
  t.equal(sbom.spdxVersion, 'SPDX-2.3')
  t.ok(sbom.creationInfo.creators.some(c => /^Tool: syft-v\d/.test(c)), 'made by syft')
  const purls = sbom.packages.flatMap(p => p.externalRefs?.map(r => r.referenceLocator) ?? [])
  t.ok(purls.some(p => p.startsWith('pkg:deb/debian/libc6@')), 'Debian\'s libc6')
  t.ok(purls.some(p => p.startsWith('pkg:npm/fastify@')), 'fastify, from node_modules')
  t.ok(sbom.packages.some(p => p.name === 'node'), 'Node')
})

t.test('refused before writing: uncommitted changes, versions that differ, a full --out, bad flags', async t => {
  const dirs = t.testdir({ clone: {}, out: {}, full: { r: { 'old.txt': 'x' } } })
  const clone = join(dirs, 'clone')
  // The clone's own HEAD would be the default branch: check out the commit under test.
  const head = (await exec('git', ['-C', repoRoot, 'rev-parse', 'HEAD'])).stdout.trim()
  await exec('git', ['clone', '--quiet', '--no-checkout', repoRoot, clone])
  await exec('git', ['-C', clone, 'checkout', '--quiet', '--detach', head])
  const identity = ['-c', 'user.name=t', '-c', 'user.email=t@t']
  const git = (...args: string[]): Promise<unknown> => exec('git', ['-C', clone, ...identity, ...args])
  await symlink(join(repoRoot, 'node_modules'), join(clone, 'node_modules'))
  await writeFile(join(clone, '.git', 'info', 'exclude'), 'node_modules\n')
  const out = join(dirs, 'out', 'r')

  await writeFile(join(clone, 'notes.txt'), 'x')
  const dirty = await release(['--out', out], clone)
  t.equal(dirty.code, 1)
  t.match(dirty.out, /^release: refused: the working tree has uncommitted changes \(\?\? notes\.txt\): commit them/m)
  await exec('rm', [join(clone, 'notes.txt')])

  const chart = join(clone, 'charts', 'lameduck', 'Chart.yaml')
  await writeFile(chart, (await readFile(chart, 'utf8')).replace(/^appVersion: .*$/m, 'appVersion: "9.9.9"'))
  await git('commit', '--quiet', '-am', 'another appVersion')
  const versions = await release(['--out', out], clone)
  t.equal(versions.code, 1)
  const disagree = `package.json has ${version.replace(/\./g, '\\.')}, Chart.yaml's appVersion has 9\\.9\\.9$`
  t.match(versions.out, new RegExp(`^release: refused: the versions disagree: ${disagree}`, 'm'))

  const full = join(dirs, 'full')
  const notEmpty = await release(['--out', join(full, 'r')])
  t.equal(notEmpty.code, 1)
  t.match(notEmpty.out, /^release: refused: --out .*: the folder exists and is not empty$/m)
  t.same(await readdir(join(full, 'r')), ['old.txt'], 'nothing written')

  const bad = await release(['--output', 'x'])
  t.equal(bad.code, 2)
  t.match(bad.out, /^release: Unknown option '--output'.*\(see npm run release -- --help\)$/m)
})
