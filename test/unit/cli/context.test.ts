// `--context` on every command that talks to a cluster (serve, certs, check, verify), through the CLI entry
// point, against a kubeconfig with two contexts: the command goes to the named context's API server,
// with its credentials, and never to the current one; without the flag, to the current one.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'
import {
  failure, fakeApiServer, writeTwoContextKubeconfig, type ApiAnswer, type ApiRequest, type FakeApiServer
} from '../../helpers/api-server.js'

function io (): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  const stdout = (s: string): void => { captured.out += s }
  return Object.assign(captured, { stdout, stderr: (s: string) => { captured.err += s }, env: {} })
}

/**
 * Two API servers, `near` (the kubeconfig's current context) and `far`: what `answer` leaves, each
 * refuses (403), naming itself.
 */
async function twoClusters (t: Test, answer: (r: ApiRequest) => ApiAnswer | undefined = () => undefined):
Promise<{ near: FakeApiServer, far: FakeApiServer, kubeconfig: string }> {
  const near = await fakeApiServer(t, r => answer(r) ?? failure(403, 'the near cluster'))
  const far = await fakeApiServer(t, r => answer(r) ?? failure(403, 'the far cluster'))
  return { near, far, kubeconfig: await writeTwoContextKubeconfig(t, near.url, far.url) }
}

const CHECK = ['check', '--namespace', 'shop', '--deployment', 'web', '--service', 'web']

t.test('check --context: the named context\'s cluster and credentials; without it, the current one', async t => {
  const { near, far, kubeconfig } = await twoClusters(t)
  const out = io()
  t.equal(await runCli([...CHECK, '--kubeconfig', kubeconfig, '--context', 'far'], out), 1)
  t.match(out.err, `checking deployment shop/web through Service web on ${far.url}\n`)
  t.match(out.err, /lameduck check: reading deployment shop\/web: forbidden \(403\): the far cluster\n$/)
  const asked = far.requests.map(r => `${r.method} ${r.url} ${r.authorization ?? ''}`)
  t.same(asked, ['GET /apis/apps/v1/namespaces/shop/deployments/web Bearer far-token'])
  t.same(near.requests, [], 'nothing to the current context')
  const current = io()
  t.equal(await runCli([...CHECK, '--kubeconfig', kubeconfig], current), 1)
  t.match(current.err, /forbidden \(403\): the near cluster\n$/)
  const unknown = io()
  t.equal(await runCli([...CHECK, '--kubeconfig', kubeconfig, '--context', 'nowhere'], unknown), 1)
  t.equal(unknown.err, `lameduck check: kubeconfig ${kubeconfig}: it has no context "nowhere"\n`)
})

t.test('certs --context: the named context\'s cluster', async t => {
  const { near, far, kubeconfig } = await twoClusters(t)
  const out = io()
  t.equal(await runCli(['certs', '--kubeconfig', kubeconfig, '--context', 'far'], out), 1)
  t.equal(out.err, 'lameduck certs: reading MutatingWebhookConfiguration lameduck: forbidden (403): the far cluster\n')
  t.ok(far.requests.length > 0, 'the far cluster')
  t.ok(far.requests.every(r => r.authorization === 'Bearer far-token'), 'with its token')
  t.same(near.requests, [], 'nothing to the current context')
})

t.test('verify --context: the dry run in the named context\'s cluster', async t => {
  const { near, far, kubeconfig } = await twoClusters(t)
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', kubeconfig, '--context', 'far'], out), 1)
  t.match(out.out, /the API server refused it: a dry-run Pod in namespace shop: forbidden \(403\): the far cluster\n/)
  t.equal(far.requests[0]?.url, '/api/v1/namespaces/shop/pods?dryRun=All')
  t.ok(far.requests.every(r => r.authorization === 'Bearer far-token'), 'with its token')
  t.same(near.requests, [], 'nothing to the current context')
  const current = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', kubeconfig], current), 1)
  t.match(current.out, /the near cluster/)
})

t.test('serve --context: the namespace cache and the version come from the named context\'s cluster', async t => {
  const version = { major: '1', minor: '37', gitVersion: 'v1.37.2' }
  const answer = (r: ApiRequest): ApiAnswer | undefined =>
    r.url === '/version' ? { status: 200, body: version } : undefined
  const { near, far, kubeconfig } = await twoClusters(t, answer)
  // The CLI as the bin runs it, under tap's loader as test/unit/serve/main.test.ts spawns it (its coverage counts).
  const flags = ['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--drain-delay', '0', '--self-signed']
  const cli = [...process.execArgv, 'test/helpers/run-cli.ts']
  const args = [...cli, 'serve', ...flags, '--kubeconfig', kubeconfig, '--context', 'far']
  const child = spawn(process.execPath, args, { stdio: 'ignore' })
  t.teardown(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await once(child, 'exit') } })
  const versionRead = (): boolean => far.requests.some(r => r.url === '/version')
  for (const start = Date.now(); !versionRead() && Date.now() - start < 30_000;) await sleep(50)
  t.ok(far.requests.some(r => r.url.startsWith('/api/v1/namespaces')), 'the namespaces listed from the far cluster')
  t.ok(far.requests.some(r => r.url === '/version'), 'its version read there')
  t.ok(far.requests.every(r => r.authorization === 'Bearer far-token'), 'with its token')
  t.same(near.requests, [], 'nothing to the current context')
})
