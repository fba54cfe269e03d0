/**
 * buildah (Debian's) with the project's own storage under `.lameduck/buildah/`, so nothing lands in
 * /var/lib/containers and nothing is left mounted: containers/storage's overlay driver bind-mounts
 * its directory onto itself and leaves that mount behind when buildah exits, so every call ends by
 * unmounting what is under the storage directory.
 */
import { rename, rm, stat } from 'node:fs/promises'
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

/** Whether `dir` holds an OCI image layout (exportLayout's). */
export async function isLayout (dir: string): Promise<boolean> {
  return await stat(join(dir, 'index.json')).then(() => true, () => false)
}

/** Whether the storage holds an image named `ref`. */
export async function hasImage (ref: string): Promise<boolean> {
  return await buildah(['inspect', '--type', 'image', ref]).then(() => true, () => false)
}
