/**
 * lameduck's image, from the repository's own Dockerfile, built by buildah (`buildah bud`, as
 * `docker build` would) on the locally made bases (base-image.ts for Node, go-image.ts for the Go
 * stage that builds lameduck-pause), with the Dockerfile's small `pause` stage beside it
 * (lameduck-pause alone). Both are exported as OCI image layouts under `.lameduck/images/`, which
 * are pushed to the nodes' registry (push.ts) and written into a release (release/): the same
 * manifest digest everywhere. A stamp of the build context (what .dockerignore lets in, and the
 * Dockerfile) skips the build when nothing changed.
 *
 *   npx tsx control-plane/images/lameduck-image.ts     # builds .lameduck/images/lameduck.oci/
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { ensureDebianPackages, IMAGE_REQUIREMENTS } from '../node/prereqs.js'
import { imagesDir } from '../node/images.js'
import { lameduckDir, repoRoot } from '../paths.js'
import { BASE_IMAGE, buildNpmConfig, ensureBaseImage } from './base-image.js'
import { buildah, exportLayout, upToDate, withHeartbeat, writeStamp } from './buildah.js'
import { ensureGoImage, GO_IMAGE } from './go-image.js'
import { goOutput } from '../go.js'

/** The name manifests/ use; containerd knows it as docker.io/library/lameduck:0.1.0. */
export const LAMEDUCK_IMAGE = 'lameduck:0.1.0'
/** The image in buildah's storage, and exported. */
const BUILT = 'localhost/lameduck:dev'
/** The Dockerfile's `pause` stage: lameduck-pause alone (FROM scratch), for `--pause-image`. */
export const PAUSE_IMAGE = 'lameduck-pause:0.1.0'
const PAUSE_BUILT = 'localhost/lameduck-pause:dev'

/** The layouts, and the stamp of the context they were built from. */
export const lameduckLayout = join(imagesDir, 'lameduck.oci')
export const pauseLayout = join(imagesDir, 'lameduck-pause.oci')
const stampFile = join(imagesDir, 'lameduck.stamp')

/** The files of the build context: what .dockerignore's `!` lines let in, and the Dockerfile. */
async function contextFiles (): Promise<string[]> {
  const allowed = (await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n').filter(line => line.startsWith('!')).map(line => line.slice(1).replace(/\/$/, ''))
  const files: string[] = [join(repoRoot, 'Dockerfile'), join(repoRoot, '.dockerignore')]
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) return
    if (!info.isDirectory()) { files.push(path); return }
    for (const entry of (await readdir(path)).sort()) await walk(join(path, entry))
  }
  for (const entry of allowed) await walk(join(repoRoot, entry))
  return files
}

async function contextHash (): Promise<string> {
  const hash = createHash('sha256')
  for (const file of await contextFiles()) hash.update(relative(repoRoot, file)).update('\0').update(await readFile(file)).update('\0')
  return hash.digest('hex')
}

/**
 * Builds lameduck's image if its context changed since the last build, and resolves with its OCI
 * image layout.
 */
export async function ensureLameduckImage (log: (line: string) => void): Promise<string> {
  const hash = await contextHash()
  if (await upToDate([lameduckLayout, pauseLayout], stampFile, hash)) {
    log(`[image] ${LAMEDUCK_IMAGE} is up to date with the Dockerfile's context; nothing to build`)
    return lameduckLayout
  }
  await ensureDebianPackages(IMAGE_REQUIREMENTS, log)
  const started = Date.now()
  await ensureBaseImage(log)
  await ensureGoImage(log)
  const npmConfig = join(lameduckDir, 'buildah', 'npm-build')
  await buildNpmConfig(npmConfig)
  const args = ['--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '--build-arg', `GO_IMAGE=${GO_IMAGE}`]
  // The machine's Go build cache (the same toolchain: go-image.ts), mounted for the build only where
  // the Go stage keeps its cache: a fresh clone's first build compiles nothing the machine has compiled.
  const goCache = (await goOutput(['env', 'GOCACHE'], { cwd: repoRoot })).trim()
  log(`[image] buildah bud ${args.join(' ')} -t ${BUILT} . (the Dockerfile; about 60 s the first time)`)
  // --network host: the build's npm ci reaches the registry without a network of buildah's own
  // (netavark would add firewall chains and set ip_forward). The npmrc folder is mounted for the
  // build only: nothing of it is in the image.
  const mounts = ['-v', `${npmConfig}:/usr/local/etc:ro`, '-v', `${goCache}:/tmp/go-build`]
  const bud = (target: string[], tag: string): Promise<string> => buildah([
    'bud', '--quiet', '--network', 'host', '--layers', '--pull=never', ...args, ...mounts, ...target, '-t', tag, repoRoot
  ])
  await withHeartbeat('buildah bud', log, bud([], BUILT))
  // The same build's `pause` stage: its layers are cached by now.
  await withHeartbeat('buildah bud --target pause', log, bud(['--target', 'pause'], PAUSE_BUILT))
  await mkdir(imagesDir, { recursive: true })
  await exportLayout(BUILT, lameduckLayout)
  await exportLayout(PAUSE_BUILT, pauseLayout)
  await writeStamp(stampFile, hash)
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const built = `${lameduckLayout}, ${pauseLayout}`
  log(`[image] ${LAMEDUCK_IMAGE} and ${PAUSE_IMAGE} built from the Dockerfile in ${seconds} s: ${built}`)
  return lameduckLayout
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureLameduckImage(line => {
    console.log(line)
  }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
