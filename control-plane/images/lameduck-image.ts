/**
 * lameduck's image, from the repository's own Dockerfile, built by buildah (`buildah bud`, as
 * `docker build` would) on the locally made base (base-image.ts), and exported as an OCI image
 * layout, `.lameduck/images/lameduck.oci/`, which is pushed to the node's registry (push.ts) and
 * written into a release (release/): the same manifest digest everywhere. A stamp of the build
 * context (what .dockerignore lets in, and the Dockerfile) skips the build when nothing changed.
 *
 *   npx tsx control-plane/images/lameduck-image.ts     # builds .lameduck/images/lameduck.oci/
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { ensureDebianPackages, IMAGE_REQUIREMENTS } from '../node/prereqs.js'
import { imagesDir } from '../node/images.js'
import { lameduckDir, repoRoot } from '../paths.js'
import { BASE_IMAGE, buildNpmConfig, ensureBaseImage } from './base-image.js'
import { buildah, exportLayout, isLayout, withHeartbeat } from './buildah.js'

/** The name manifests/ use; containerd knows it as docker.io/library/lameduck:0.1.0. */
export const LAMEDUCK_IMAGE = 'lameduck:0.1.0'
/** The image in buildah's storage, and exported. */
const BUILT = 'localhost/lameduck:dev'
export const lameduckLayout = join(imagesDir, 'lameduck.oci')

/** The stamp of the context the image in storage was built from. */
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
  const stamp = await readFile(stampFile, 'utf8').catch(() => '')
  if (stamp.trim() === hash && await isLayout(lameduckLayout)) {
    log(`[image] ${LAMEDUCK_IMAGE} is up to date with the Dockerfile's context; nothing to build`)
    return lameduckLayout
  }
  await ensureDebianPackages(IMAGE_REQUIREMENTS, log)
  const started = Date.now()
  await ensureBaseImage(log)
  const npmConfig = join(lameduckDir, 'buildah', 'npm-build')
  await buildNpmConfig(npmConfig)
  log(`[image] buildah bud --build-arg NODE_IMAGE=${BASE_IMAGE} -t ${BUILT} . (the Dockerfile; about 45 s the first time)`)
  // --network host: the build's npm ci reaches the registry without a network of buildah's own
  // (netavark would add firewall chains and set ip_forward). The npmrc folder is mounted for the
  // build only: nothing of it is in the image.
  await withHeartbeat('buildah bud', log, buildah(['bud', '--quiet', '--network', 'host', '--layers', '--pull=never', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`,
    '-v', `${npmConfig}:/usr/local/etc:ro`, '-t', BUILT, repoRoot]))
  await mkdir(imagesDir, { recursive: true })
  await exportLayout(BUILT, lameduckLayout)
  await writeFile(stampFile, `${hash}\n`)
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  log(`[image] ${LAMEDUCK_IMAGE} built from the Dockerfile in ${seconds} s: ${lameduckLayout}`)
  return lameduckLayout
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureLameduckImage(line => { console.log(line) }).catch((err: unknown) => { console.error(err instanceof Error ? err.message : err); process.exit(1) })
}
