/**
 * A single-layer image in the docker-archive format (`docker save`: manifest.json, the config JSON
 * and layer.tar), made from a directory, for `crane push` into the nodes' registry (push.ts).
 * The layer is a reproducible tar (numeric root owner, mtime 0), so the same directory
 * gives the same image ID.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { run } from '../node/system.js'

/** What goes into the image's config. */
export interface ImageSpec {
  /** The name containerd knows it by, e.g. `registry.k8s.io/pause:3.10`. */
  ref: string
  rootfs: string
  entrypoint: string[]
  cmd?: string[]
  /** `UID:GID`, as the Dockerfile's USER. */
  user?: string
}

async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** The image config of `spec` whose single layer has digest `diffId`. */
export function imageConfig (spec: ImageSpec, diffId: string): object {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: spec.entrypoint,
      Cmd: spec.cmd ?? null,
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: '/',
      ...(spec.user === undefined ? {} : { User: spec.user })
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'lameduck control-plane/images/archive.ts' }]
  }
}

/** Writes the docker-archive of `spec` to `out` (atomically: a partial file never has that name). */
export async function writeDockerArchive (spec: ImageSpec, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true })
  const work = await mkdtemp(`${out}.work-`)
  try {
    const layer = join(work, 'layer.tar')
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', spec.rootfs, '-cf', layer, '.'])
    const diffId = await sha256File(layer)
    const config = JSON.stringify(imageConfig(spec, diffId))
    const configName = `${createHash('sha256').update(config).digest('hex')}.json`
    await writeFile(join(work, configName), config)
    await mkdir(join(work, diffId))
    await rename(layer, join(work, diffId, 'layer.tar'))
    await writeFile(join(work, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [spec.ref], Layers: [`${diffId}/layer.tar`] }]))
    await run('tar', ['-C', work, '-cf', `${out}.partial`, 'manifest.json', configName, diffId])
    await rename(`${out}.partial`, out)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
