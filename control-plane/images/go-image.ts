/**
 * The Go toolchain image of lameduck's Dockerfile (`GO_IMAGE`, the stage that builds lameduck-pause),
 * made locally since no container registry is reachable: the Go toolchain as the Go module proxy
 * serves it (module golang.org/toolchain, the same files as go.dev's release archive) in an image
 * of its own, `FROM scratch`: the toolchain is static, and the Dockerfile's Go stage runs it in exec
 * form, so it needs no shell and no libc (the public default, golang:1.26-bookworm, works the same).
 * Kept as a docker-archive in the user's cache, as the Node base is (base-image.ts).
 */
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { goOutput } from '../go.js'
import { run } from '../node/system.js'
import { buildah, commitLayer, exportArchive, hasImage, withHeartbeat } from './buildah.js'

/** The toolchain, and the image named after it (the Dockerfile's GO_IMAGE build argument). */
export const GO_TOOLCHAIN = 'v0.0.1-go1.26.8.linux-amd64'
export const GO_IMAGE = 'localhost/golang:1.26.8-toolchain'

/** Where the image archive is kept between runs and clones. */
export function goImageCache (): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lameduck', 'golang-1.26.8-toolchain.tar')
}

/** The module cache keeps files read-only and without execute bits: the copy gets them back. */
async function markExecutable (dir: string): Promise<void> {
  for (const entry of await readdir(dir)) await chmod(join(dir, entry), 0o755)
}

async function makeGoImage (log: (line: string) => void): Promise<void> {
  const cache = goImageCache()
  await mkdir(join(cache, '..'), { recursive: true })
  const work = await mkdtemp(join(cache, '..', 'go-'))
  try {
    log(`[image] Go: golang.org/toolchain@${GO_TOOLCHAIN} from the Go module proxy (about 70 MB the first time)`)
    const args = ['mod', 'download', '-json', `golang.org/toolchain@${GO_TOOLCHAIN}`]
    const env = { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' }
    const download = await withHeartbeat('go mod download', log, goOutput(args, { cwd: work, env }))
    const { Dir } = JSON.parse(download) as { Dir: string }
    const goroot = join(work, 'go')
    await cp(Dir, goroot, { recursive: true })
    await run('chmod', ['-R', 'u+w', goroot])
    await markExecutable(join(goroot, 'bin'))
    await markExecutable(join(goroot, 'pkg/tool/linux_amd64'))
    await mkdir(join(work, 'tmp'), { mode: 0o1777 })
    await chmod(join(work, 'tmp'), 0o1777)
    const goEnv = ['PATH=/usr/local/go/bin:/usr/bin:/bin', 'GOTOOLCHAIN=local', 'HOME=/root', 'GOCACHE=/tmp/go-build']
    const config = ['--os', 'linux', '--arch', 'amd64', ...goEnv.flatMap(e => ['--env', e])]
    const adds: Array<[string, string]> = [[goroot, '/usr/local/go'], [join(work, 'tmp'), '/tmp']]
    await commitLayer({ from: 'scratch', adds, config, image: GO_IMAGE })
    await exportArchive(GO_IMAGE, cache, GO_IMAGE)
    log(`[image] Go: ${GO_IMAGE} kept in ${cache}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Makes sure buildah's storage has the Go image: from its storage, the cache, or made anew. */
export async function ensureGoImage (log: (line: string) => void): Promise<void> {
  if (await hasImage(GO_IMAGE)) return
  const cache = goImageCache()
  if (await stat(cache).then(() => true, () => false)) {
    log(`[image] Go: loading ${GO_IMAGE} from ${cache}`)
    await buildah(['pull', '--quiet', `docker-archive:${cache}`])
    if (await hasImage(GO_IMAGE)) return
  }
  await makeGoImage(log)
}
