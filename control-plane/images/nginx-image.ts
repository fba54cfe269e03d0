/**
 * An nginx image for the demo's nginx scenario: Debian's own nginx (the `nginx` and `nginx-common`
 * packages of the machine's apt sources, fetched with `apt-get download`, with `libssl3` and
 * `zlib1g` that the debootstrap base lacks) unpacked onto the same locally made Debian base as
 * lameduck's image (base-image.ts), committed by buildah. No maintainer script runs: the Pod's
 * nginx.conf (demo/scenario-objects.ts) sets every path nginx writes to. Named `nginx:…` so that
 * lameduck recognises it as nginx (PRESET_IMAGES in src/admission/prestop.ts). Like bitnami/nginx,
 * and unlike the official image, it declares no STOPSIGNAL: the kubelet stops it with SIGTERM,
 * nginx's fast shutdown, the case the nginx preset is for (docs/rules.md#nginx-images). Built once,
 * exported as an OCI image layout under .lameduck/images/, pushed to the nodes' registry (push.ts).
 *
 *   npx tsx control-plane/images/nginx-image.ts     # builds .lameduck/images/nginx.oci/
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureDebianPackages, IMAGE_REQUIREMENTS } from '../node/prereqs.js'
import { imagesDir } from '../node/images.js'
import { run } from '../node/system.js'
import { BASE_IMAGE, ensureBaseImage } from './base-image.js'
import { commitLayer, exportLayout, upToDate, writeStamp } from './buildah.js'

/** The name Pods use; containerd pulls it as docker.io/library/nginx:…, from the nodes' registry. */
export const NGINX_IMAGE = 'nginx:1.22-debian-demo'
/** The image in buildah's storage, and exported. */
const BUILT = 'localhost/nginx-demo:dev'
export const nginxLayout = join(imagesDir, 'nginx.oci')
/** Debian's nginx, and what it needs beyond the base image. */
export const NGINX_PACKAGES = ['nginx', 'nginx-common', 'libssl3', 'zlib1g']
/** Changed when the recipe changes, so that an archive of an older recipe is rebuilt. */
const RECIPE = `2 ${NGINX_PACKAGES.join(' ')}`

const stampFile = join(imagesDir, 'nginx.stamp')

const exec = promisify(execFile)

/** Builds the nginx image unless its layout of this recipe is there; resolves with the layout. */
export async function ensureNginxImage (log: (line: string) => void): Promise<string> {
  if (await upToDate([nginxLayout], stampFile, RECIPE)) {
    log(`[image] ${NGINX_IMAGE} is built; nothing to do`)
    return nginxLayout
  }
  await ensureDebianPackages(IMAGE_REQUIREMENTS, log)
  const started = Date.now()
  await ensureBaseImage(log)
  await mkdir(imagesDir, { recursive: true })
  const work = await mkdtemp(join(imagesDir, 'nginx-'))
  try {
    log(`[image] apt-get download ${NGINX_PACKAGES.join(' ')} (the machine's apt sources)`)
    const debs = join(work, 'debs')
    await mkdir(debs)
    // A machine whose package lists were never fetched (or were cleaned) knows no package to download: fetch them once.
    await exec('apt-get', ['download', ...NGINX_PACKAGES], { cwd: debs }).catch(async () => {
      log('[image] apt-get download failed; apt-get update, then again')
      await run('apt-get', ['update'])
      await exec('apt-get', ['download', ...NGINX_PACKAGES], { cwd: debs })
    })
    const rootfs = join(work, 'rootfs')
    await mkdir(rootfs)
    for (const deb of (await readdir(debs)).filter(f => f.endsWith('.deb')).sort()) await run('dpkg-deb', ['-x', join(debs, deb), rootfs])
    // The base has a merged /usr (/lib is a link to usr/lib): a package's /lib (zlib1g's, nginx-common's
    // systemd unit) goes under usr/, or the layer's directory would hide the link and the loader's libraries.
    for (const dir of ['bin', 'sbin', 'lib', 'lib64']) {
      if (!await stat(join(rootfs, dir)).then(() => true, () => false)) continue
      await mkdir(join(rootfs, 'usr', dir), { recursive: true })
      await run('cp', ['-a', `${join(rootfs, dir)}/.`, join(rootfs, 'usr', dir)])
      await rm(join(rootfs, dir), { recursive: true })
    }
    // What nginx-common's maintainer scripts would make: the compiled-in log and temp folders.
    for (const dir of ['var/log/nginx', 'var/lib/nginx']) await mkdir(join(rootfs, dir), { recursive: true })
    await rm(join(rootfs, 'usr/share/doc'), { recursive: true, force: true })
    const layer = join(work, 'nginx.tar')
    await run('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', layer, '.'])
    const config = ['--cmd', '["nginx","-g","daemon off;"]', '--env', 'NODE_VERSION-']
    await commitLayer({ from: BASE_IMAGE, adds: [[layer, '/']], config, image: BUILT })
    await exportLayout(BUILT, nginxLayout)
    await writeStamp(stampFile, RECIPE)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  log(`[image] ${NGINX_IMAGE} (Debian's nginx on ${BASE_IMAGE}) built in ${seconds} s: ${nginxLayout}`)
  return nginxLayout
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureNginxImage(line => {
    console.log(line)
  }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
