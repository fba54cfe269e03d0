/**
 * The node's own images, made on this machine since no public registry is reachable: pause (the
 * sandbox image, `gcc -static` of Kubernetes' own build/pause/linux/pause.c from the Go module
 * cache) and agnhost (manifests/loadtest's sample app, built with the node's binaries; cgo, so its
 * image carries the glibc it links). Cached in `.lameduck/images/` and remade when the binaries are
 * newer; each start of nodes pushes them to their registry (machine-registry.ts), where containerd pulls them.
 */
import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { goOutput } from '../go.js'
import { binaryPath, lameduckDir } from '../paths.js'
import { kubernetesModuleDir, readRelease } from '../release.js'
import { writeDockerArchive } from '../images/archive.js'
import { NODE } from './config.js'
import { run } from './system.js'

/** Where image archives are kept between runs. */
export const imagesDir = join(lameduckDir, 'images')

/** What manifests/loadtest names; the image is agnhost of the pinned release, built here. */
export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.53'

const mtime = (path: string): Promise<number> => stat(path).then(s => s.mtimeMs, () => 0)

/** pause.tar: a static pause binary, tagged as containerd's sandbox image. */
async function pauseArchive (log: (line: string) => void): Promise<string> {
  const out = join(imagesDir, 'pause.tar')
  if (await mtime(out) > 0) return out
  const { kubernetes } = await readRelease()
  const modCache = (await goOutput(['env', 'GOMODCACHE'], { cwd: kubernetesModuleDir })).trim()
  const source = join(modCache, `k8s.io/kubernetes@${kubernetes}`, 'build/pause/linux/pause.c')
  log(`[node] building the pause image: gcc -static ${source}`)
  const root = await mkdtemp(join(imagesDir, 'pause-root-'))
  try {
    await run('gcc', ['-Os', '-static', '-DVERSION=v3.10-lameduck', '-o', join(root, 'pause'), source])
    await run('strip', [join(root, 'pause')])
    await writeDockerArchive({ ref: NODE.pauseImage, rootfs: root, entrypoint: ['/pause'] }, out)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  return out
}

/** agnhost.tar: the agnhost binary and the shared libraries it links (ldd). */
async function agnhostArchive (log: (line: string) => void): Promise<string> {
  const out = join(imagesDir, 'agnhost.tar')
  const binary = binaryPath('agnhost')
  if (await mtime(out) > await mtime(binary)) return out
  log(`[node] packing the agnhost image (${AGNHOST_IMAGE})`)
  const root = await mkdtemp(join(imagesDir, 'agnhost-root-'))
  try {
    await cp(binary, join(root, 'agnhost'))
    const libraries = (await run('ldd', [binary])).match(/\/\S+/g) ?? []
    for (const lib of libraries) {
      await mkdir(join(root, dirname(lib)), { recursive: true })
      await cp(lib, join(root, lib), { dereference: true })
    }
    await mkdir(join(root, 'tmp'), { mode: 0o1777 })
    await writeDockerArchive({ ref: AGNHOST_IMAGE, rootfs: root, entrypoint: ['/agnhost'], cmd: ['netexec', '--http-port=8080'] }, out)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  return out
}

/** The node's image archives, made if needed, with the names Pods and containerd give them. */
export async function nodeImages (log: (line: string) => void): Promise<Array<{ archive: string, ref: string }>> {
  await mkdir(imagesDir, { recursive: true })
  const pause = { archive: await pauseArchive(log), ref: NODE.pauseImage }
  return [pause, { archive: await agnhostArchive(log), ref: AGNHOST_IMAGE }]
}
