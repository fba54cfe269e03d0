// lameduck's image as the Dockerfile makes it: `npm run image:build` (buildah bud on the Dockerfile,
// exported as the OCI layout .lameduck/images/lameduck.oci, what the nodes' registry is given), then
// run as the image says. There is no container
// runtime here, and none is needed to see what the Dockerfile made: the image's layers are unpacked
// in order into a root file system, and its entrypoint is started there (chroot) as its user, with
// its environment and working directory. What it must be: production dependencies only, no sources, a
// numeric non-root user, and a server that answers over HTTPS and exits 0 on SIGTERM.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { access, chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import https from 'node:https'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ensureLameduckImage } from '../../control-plane/images/lameduck-image.js'
import { lameduckDir } from '../../control-plane/paths.js'

t.setTimeout(600_000)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false)

/** The image config's part a runtime reads to start a container. */
interface ImageConfig { Entrypoint: string[], Cmd: string[], Env: string[], WorkingDir: string, User: string }

/** A blob of an OCI image layout, by its digest (`sha256:…`). */
const blob = (layout: string, digest: string): string => join(layout, 'blobs', ...digest.split(':'))

/** An OCI image layout's layers, unpacked in order into `rootfs` (whiteouts applied); resolves with its config. */
async function unpack (layout: string, rootfs: string): Promise<ImageConfig> {
  const big = { maxBuffer: 256 * 1024 * 1024 }
  const json = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T
  const index = await json<{ manifests: Array<{ digest: string }> }>(join(layout, 'index.json'))
  const manifest = await json<{ config: { digest: string }, layers: Array<{ digest: string }> }>(
    blob(layout, index.manifests[0]!.digest))
  for (const { digest } of manifest.layers) {
    // GNU tar reads a gzipped layer as it is, from the file.
    const layer = blob(layout, digest)
    const listing = await run('tar', ['-tf', layer], big)
    // A whiteout hides what a lower layer had: an opaque one the directory's content, another its file.
    for (const entry of listing.stdout.split('\n').filter(line => /(^|\/)\.wh\./.test(line))) {
      const [, dir = '', name = ''] = /^(.*?)\/?\.wh\.(.*)$/.exec(entry.replace(/^\.\//, '')) ?? []
      const remove = name === '.wh..opq' ? 'rm -rf "$0"/* "$0"/.[!.]*' : 'rm -rf "$0/$1"'
      await run('sh', ['-c', remove, join(rootfs, dir), name])
    }
    await run('tar', ['-xf', layer, '--numeric-owner', '--exclude=.wh.*', '-C', rootfs], big)
  }
  return (await json<{ config: ImageConfig }>(blob(layout, manifest.config.digest))).config
}

/** An HTTPS request to the server (its certificate is self-signed). */
function request (
  port: number,
  method: string,
  path: string,
  body?: string
): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json' }
    const req = https.request(
      { host: '127.0.0.1', port, method, path, rejectUnauthorized: false, headers },
      res => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          resolve({ status: res.statusCode!, body: text })
        })
      }
    )
    req.on('error', reject).end(body)
  })
}

if (process.getuid?.() === 0) await imageTests()
else t.plan(0, 'the image\'s root file system is owned by root, and its user is entered with chroot: run as root')

/** Unpacks the image and runs the tests on it. */
async function imageTests (): Promise<void> {
  const layout = await ensureLameduckImage(line => { t.comment(line) })
  const rootfs = await mkdtemp(join(lameduckDir, 'image-test-'))
  t.teardown(() => rm(rootfs, { recursive: true, force: true }))
  await chmod(rootfs, 0o755)
  const config = await unpack(layout, rootfs)

  t.test('what the Dockerfile says a runtime starts: node bin/lameduck.js serve, in /app, as 65532:65532', async t => {
    t.same(config.Entrypoint, ['node', 'bin/lameduck.js'])
    t.same(config.Cmd, ['serve'])
    t.equal(config.WorkingDir, '/app')
    t.equal(config.User, '65532:65532', 'numeric, so that runAsNonRoot can check it without a passwd entry')
    t.ok(config.Env.includes('NODE_ENV=production'))
  })

  t.test('the runtime stage: dist/, bin/ and the production dependencies only', async t => {
    const app = join(rootfs, config.WorkingDir)
    for (const file of ['dist/src/cli/main.js', 'dist/certs-script/main.js', 'bin/lameduck.js']) {
      t.ok(await exists(join(app, file)), file)
    }
    const modules = join(app, 'node_modules')
    for (const wanted of ['fastify', '@kubernetes/client-node', 'selfsigned']) {
      t.ok(await exists(join(modules, wanted)), wanted)
    }
    for (const dev of ['typescript', 'tap', 'tsx', 'eslint']) t.notOk(await exists(join(modules, dev)), `no ${dev}`)
    for (const source of ['src', 'test', 'certs-script']) t.notOk(await exists(join(app, source)), `no ${source}/`)
  })

  t.test('the image\'s entrypoint serves as its user, and exits 0 on SIGTERM', async t => {
    await copyFile(join(ROOT, 'examples/namespaces.yaml'), join(rootfs, 'tmp/namespaces.yaml'))
    // The image's command with the flags a Pod's `args` would give (as `args` replaces the image's Cmd).
    const args = [
      'serve', '--self-signed', '--port', '0', '--metrics-port', '0', '--host', '127.0.0.1',
      '--namespaces-file', '/tmp/namespaces.yaml', '--drain-delay', '1s'
    ]
    // chroot to the image's root as its user; env, in there, sets the image's environment (and only
    // that: tap's NODE_OPTIONS stays outside) and working directory, then execs the entrypoint.
    const env = ['/usr/bin/env', '-i', '-C', config.WorkingDir, ...config.Env]
    const command = ['--userspec', config.User, rootfs, ...env, ...config.Entrypoint, ...args]
    const child = spawn('chroot', command, { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let log = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { log += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { log += chunk })
    const deadline = Date.now() + 30_000
    while (!/lameduck is serving/.test(log)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${log}`)
      await sleep(100)
    }
    const { port } = JSON.parse(log.split('\n').find(line => line.includes('lameduck is serving'))!) as { port: number }
    // chroot and env exec what follows them, so the child's PID is the server's.
    t.match(await readFile(`/proc/${child.pid!}/status`, 'utf8'), /^Uid:\s+65532\s/m, 'the server runs as UID 65532')
    t.same(await request(port, 'GET', '/healthz'), { status: 200, body: '{"ok":true}' })
    t.equal((await request(port, 'GET', '/readyz')).status, 200)
    const pod = await readFile(join(ROOT, 'examples/pod-review.json'), 'utf8')
    const answer = await request(port, 'POST', '/mutate', pod)
    const review = JSON.parse(answer.body) as { response: { allowed: boolean, patchType?: string } }
    t.match(review.response, { allowed: true, patchType: 'JSONPatch' }, 'a Pod in an opted-in namespace is mutated')
    child.kill('SIGTERM')
    const code = await exited
    t.equal(code, 0, `exit code 0; log ends:\n${log.slice(-1500)}`)
  })
}
