// The Dockerfile's two stages, done by hand (there is no container engine here): the build stage
// compiles exactly what .dockerignore lets in, the runtime stage installs only the production
// dependencies (`npm ci --omit=dev --ignore-scripts`, offline from npm's cache) next to dist/ and
// bin/, and the result serves /healthz and /mutate over HTTPS as UID 65532, then exits 0 on SIGTERM.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { access, chmod, cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

t.setTimeout(300_000)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false)

/** What .dockerignore lets into the build context, and so all the Dockerfile can copy. */
const CONTEXT = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter(line => line.startsWith('!')).map(line => line.slice(1).replace(/\/$/, ''))

const tmp = await mkdtemp(join(tmpdir(), 'lameduck-image-'))
t.teardown(() => rm(tmp, { recursive: true, force: true }))
// The runtime user must be able to reach /app, as in the image.
await chmod(tmp, 0o755)

t.test('the build stage compiles the context into dist/', async t => {
  const build = join(tmp, 'build')
  for (const entry of CONTEXT) await cp(join(ROOT, entry), join(build, entry), { recursive: true })
  // `npm ci` of the build stage, without a second install: the repository's dev dependencies.
  await symlink(join(ROOT, 'node_modules'), join(build, 'node_modules'))
  await run(process.execPath, [join(build, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: build })
  t.ok(await exists(join(build, 'dist/src/cli/main.js')))
  t.ok(await exists(join(build, 'dist/certs-script/main.js')))
})

t.test('the runtime stage has production dependencies only', async t => {
  const app = join(tmp, 'app')
  await mkdir(app)
  for (const file of ['package.json', 'package-lock.json']) await cp(join(ROOT, file), join(app, file))
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 16 * 1024 * 1024 })
  await cp(join(tmp, 'build/dist'), join(app, 'dist'), { recursive: true })
  await cp(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true })
  await cp(join(ROOT, 'examples/namespaces.yaml'), join(app, 'namespaces.yaml'))
  for (const dependency of ['fastify', '@kubernetes/client-node', 'selfsigned']) t.ok(await exists(join(app, 'node_modules', dependency)), dependency)
  for (const dev of ['typescript', 'tap', 'tsx', 'eslint']) t.notOk(await exists(join(app, 'node_modules', dev)), `no ${dev}`)
  t.notOk(await exists(join(app, 'src')), 'no sources')
})

function request (port: number, method: string, path: string, body?: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => { resolve({ status: res.statusCode!, body: text }) })
    })
    req.on('error', reject).end(body)
  })
}

/**
 * The image's environment: the Dockerfile's ENV and nothing else. tap's processinfo adds its
 * NODE_OPTIONS hooks to the env of every child the test spawns, so the command goes through
 * `env -i`, which starts node with exactly these variables (the hooks' exit handler would otherwise
 * try to write tap's files as UID 65532, and fail the exit).
 */
const IMAGE_ENV = [`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'NODE_ENV=production']

t.test('the image\'s command serves as UID 65532 and exits 0 on SIGTERM', async t => {
  const app = join(tmp, 'app')
  const asNonRoot = process.getuid?.() === 0 ? { uid: 65532, gid: 65532 } : {}
  const child = spawn('/usr/bin/env', ['-i', ...IMAGE_ENV, process.execPath, 'bin/lameduck.js', 'serve', '--self-signed', '--port', '0', '--metrics-port', '0', '--host', '127.0.0.1',
    '--namespaces-file', 'namespaces.yaml', '--drain-delay', '1s'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], ...asNonRoot })
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
  if (process.getuid?.() === 0) {
    // `env` execs node, so the child's PID is the server's.
    const status = await readFile(`/proc/${child.pid!}/status`, 'utf8')
    t.match(status, /^Uid:\s+65532\s/m, 'the server runs as UID 65532')
  }
  t.same(await request(port, 'GET', '/healthz'), { status: 200, body: '{"ok":true}' })
  t.equal((await request(port, 'GET', '/readyz')).status, 200)
  const review = JSON.parse((await request(port, 'POST', '/mutate', await readFile(join(ROOT, 'examples/pod-review.json'), 'utf8'))).body) as { response: { allowed: boolean, patchType?: string } }
  t.match(review.response, { allowed: true, patchType: 'JSONPatch' }, 'a Pod in an opted-in namespace is mutated')
  child.kill('SIGTERM')
  const code = await exited
  t.equal(code, 0, `exit code 0; log ends:\n${log.slice(-1500)}`)
})
