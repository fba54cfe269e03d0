/**
 * lameduck's images in a release: the images the tests run (built from the Dockerfile by buildah
 * and exported as OCI image layouts, control-plane/images/lameduck-image.ts: lameduck's, and the
 * Dockerfile's small `pause` stage) each as an OCI archive, a tar of the layout whose index names
 * the version, and the digest of its manifest, which install.yaml and the packaged chart pin. The
 * manifest keeps its bytes wherever the layout is pushed (control-plane/images/push.ts; the release workflow), so a
 * registry serves the image under that digest. The tar is reproducible (sorted, dated 0).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../control-plane/node/system.js'

/** The OCI index of a layout: one image manifest. */
interface Index {
  schemaVersion: number
  manifests: Array<{ mediaType: string, digest: string, size: number, annotations?: Record<string, string> }>
}

/** The digest of the one image manifest of an OCI index, or an error naming `where`. */
export function indexDigest (index: Index, where: string): string {
  const digest = index.manifests[0]?.digest
  const one = index.manifests.length === 1 && digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest)
  if (!one) throw new Error(`${where}: not an OCI image layout of one image`)
  return digest
}

/** The digest of the one image manifest of the OCI layout `layout`. */
export async function layoutDigest (layout: string): Promise<string> {
  return indexDigest(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index, layout)
}

/** Writes the image of an OCI layout as an OCI archive whose index names `tag`; resolves with its manifest's digest. */
export async function writeImageArchive (file: string, layout: string, tag: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index
  const digest = indexDigest(index, layout)
  const annotations = { 'org.opencontainers.image.ref.name': tag }
  const named: Index = { ...index, manifests: [{ ...index.manifests[0]!, annotations }] }
  const work = await mkdtemp(join(tmpdir(), 'lameduck-index-'))
  try {
    await writeFile(join(work, 'index.json'), JSON.stringify(named))
    const flags = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--mode=a+r,u+w,go-w']
    await run('tar', [...flags, '-cf', file, '-C', layout, 'oci-layout', 'blobs', '-C', work, 'index.json'])
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return digest
}
