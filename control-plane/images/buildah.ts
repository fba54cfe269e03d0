/**
 * buildah (Debian's) with the project's own storage under `.lameduck/buildah/`, so nothing lands in
 * /var/lib/containers and nothing is left mounted: containers/storage's overlay driver bind-mounts
 * its directory onto itself and leaves that mount behind when buildah exits, so every call ends by
 * unmounting what is under the storage directory. And the steps every image build here shares: a
 * layer committed onto a base, the export as an OCI image layout for the registry (or a
 * docker-archive, the bases' cache), the stamp of what an export was built from.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lameduckDir } from '../paths.js'
import { run, unmountUnder } from '../node/system.js'

/** buildah's storage and run directories. */
export const buildahDir = join(lameduckDir, 'buildah')

const base = ['--root', join(buildahDir, 'storage'), '--runroot', join(buildahDir, 'run'), '--storage-driver', 'overlay']

/** Runs `buildah ARGS` on the project's storage; throws with its output. */
export async function buildah (args: string[]): Promise<string> {
  try {
    return await run('buildah', [...base, ...args])
  } finally {
    await unmountUnder([buildahDir]).catch(() => undefined)
  }
}

/** Awaits `work`, logging `label` with the elapsed time every 15 s meanwhile (long, quiet steps). */
export async function withHeartbeat<T> (label: string, log: (line: string) => void, work: Promise<T>): Promise<T> {
  const started = Date.now()
  const timer = setInterval(() => { log(`  … ${label}: still running, ${((Date.now() - started) / 1000).toFixed(0)} s`) }, 15_000)
  try {
    return await work
  } finally {
    clearInterval(timer)
  }
}

/**
 * Writes image `ref` of the storage as an OCI image layout in folder `dir` (layers compressed, the
 * same bytes every time), replacing what was there. Registries get images from such a folder
 * (push.ts), not from a push out of the storage: that streams each layer from the storage while it
 * is read, and a registry that reads one upload at a time (crane's) can then wait forever.
 */
export async function exportLayout (ref: string, dir: string): Promise<void> {
  await rm(`${dir}.partial`, { recursive: true, force: true })
  await buildah(['push', '--quiet', '--format', 'oci', ref, `oci:${dir}.partial`])
  await rm(dir, { recursive: true, force: true })
  await rename(`${dir}.partial`, dir)
}

/** Whether the storage holds an image named `ref`. */
export async function hasImage (ref: string): Promise<boolean> {
  return await buildah(['inspect', '--type', 'image', ref]).then(() => true, () => false)
}

/** What to commit: files added onto `from` (an image, or `scratch`), with `buildah config` flags. */
export interface LayerCommit {
  readonly from: string
  /** Each a tar (unpacked with its owners and modes) or a directory, and where it goes in the image. */
  readonly adds: ReadonlyArray<readonly [source: string, destination: string]>
  readonly config: readonly string[]
  /** The image's name in the storage. */
  readonly image: string
}

/** `buildah from`, `add`, `config`, `commit`; the container removed either way. */
export async function commitLayer (commit: LayerCommit): Promise<void> {
  const container = (await buildah(['from', '--pull=never', commit.from])).trim()
  try {
    for (const [source, destination] of commit.adds) await buildah(['add', container, source, destination])
    await buildah(['config', ...commit.config, container])
    await buildah(['commit', '--quiet', '--rm', container, commit.image])
  } catch (err) {
    await buildah(['rm', container]).catch(() => '')
    throw err
  }
}

/** Writes `image` as a docker-archive named `ref` to `archive`; a partial file never has that name. */
export async function exportArchive (image: string, archive: string, ref: string): Promise<void> {
  await rm(`${archive}.partial`, { force: true })
  await buildah(['push', '--quiet', image, `docker-archive:${archive}.partial:${ref}`])
  await run('mv', [`${archive}.partial`, archive])
}

/**
 * Whether the exports (archives, or layout folders: both get their name by a rename, once whole)
 * exist and were built from what `stamp` says (stampFile holds it).
 */
export async function upToDate (exports: readonly string[], stampFile: string, stamp: string): Promise<boolean> {
  const written = await readFile(stampFile, 'utf8').catch(() => '')
  if (written.trim() !== stamp) return false
  for (const path of exports) if (!await stat(path).then(() => true, () => false)) return false
  return true
}

/** Records that the exports were built from what `stamp` says. */
export async function writeStamp (stampFile: string, stamp: string): Promise<void> {
  await writeFile(stampFile, `${stamp}\n`)
}
