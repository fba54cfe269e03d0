import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request as httpsRequest } from 'node:https'
import { once } from 'node:events'
import tls from 'node:tls'
import pino from 'pino'
import { CLOSE_WAIT_MS, onClose, startServe } from '../../../src/serve/main.js'
import { readServeConfig } from '../../../src/serve/config.js'
import { createSelfSignedKeyPair } from '../../../src/tls/key-pair.js'
import { exampleReview } from '../../helpers/pods.js'
import { fakeApiServer, writeKubeconfig, type ApiAnswer, type ApiRequest } from '../../helpers/api-server.js'
import { servedFingerprint } from '../../helpers/served.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'
import { X509Certificate } from 'node:crypto'

/** The JSON bodies these tests read: an AdmissionReview answer or a readiness report. */
interface Answer { response: { patch: string, allowed: boolean }, reasons: string[] }

const silent = pino({ level: 'silent' })
const local = ['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--drain-delay', '0']

function call (
  port: number,
  path: string,
  body?: unknown
): Promise<{ status: number, headers: Record<string, unknown>, json: Answer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        rejectUnauthorized: false,
        agent: false,
        headers: { 'content-type': 'application/json' }
      },
      res => {
        let text = ''
        res.on('data', chunk => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text) }))
      }
    )
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

t.test('serves offline from a namespaces file with a self-signed pair, then shuts down', async t => {
  const running = await startServe(readServeConfig([...local, '--self-signed', '--namespaces-file', 'examples/namespaces.yaml'], {}), silent)
  const answer = await call(running.port, '/mutate', exampleReview())
  t.equal(answer.status, 200)
  t.match(Buffer.from(answer.json.response.patch, 'base64').toString(), /"seconds":20/, 'the shop namespace\'s 20s sleep, from the file')
  t.equal((await call(running.port, '/readyz')).status, 200)
  const metrics = await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`)
  t.match(await metrics.text(), /lameduck_admission_reviews_total\{decision="mutate"\} 1/)
  await running.shutdown()
  t.equal(running.state.draining, true)
  await t.rejects(call(running.port, '/healthz'), { code: 'ECONNREFUSED' }, 'closed')
})

t.test('--default-handler exec: a Pod without a handler annotation gets the exec hook', async t => {
  const flags = [...local, '--self-signed', '--namespaces-file', 'examples/namespaces.yaml', '--default-handler', 'exec']
  const running = await startServe(readServeConfig(flags, {}), silent)
  t.teardown(() => running.shutdown())
  const answer = await call(running.port, '/mutate', exampleReview())
  const patch = Buffer.from(answer.json.response.patch, 'base64').toString()
  t.match(patch, /"exec":\{"command":\["sleep","20"\]\}/)
})

t.test('shutdown cuts a connection that never sent a request, after CLOSE_WAIT_MS', async t => {
  const running = await startServe(readServeConfig([...local, '--self-signed', '--namespaces-file', 'examples/namespaces.yaml'], {}), silent)
  // As Go's HTTP client does: a spare connection, TLS done, no request on it. Node counts it as
  // waiting for headers, so a plain close() would wait for it (60 s, the headers timeout).
  const spare = tls.connect({ host: '127.0.0.1', port: running.port, rejectUnauthorized: false })
  await once(spare, 'secureConnect')
  const closed = once(spare, 'close')
  const started = Date.now()
  await running.shutdown()
  await closed
  const took = Date.now() - started
  t.ok(took >= CLOSE_WAIT_MS - 50, `it had its chance to send a request first (${took} ms)`)
  t.ok(took < 30_000, 'cut, instead of being waited for')
  await t.rejects(call(running.port, '/healthz'), { code: 'ECONNREFUSED' }, 'closed')
})

t.test('serves a key pair from files', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-main-'))
  const pair = await createSelfSignedKeyPair()
  await writeFile(join(dir, 'tls.crt'), pair.cert)
  await writeFile(join(dir, 'tls.key'), pair.key)
  const running = await startServe(readServeConfig([...local, '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--namespaces-file', 'examples/namespaces.yaml'], {}), silent)
  t.teardown(() => running.shutdown())
  t.equal((await call(running.port, '/healthz')).status, 200)
})

t.test('with the API server unreachable: serving, not ready, auto meaning exec until it answers, Pods left to failurePolicy', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-main-'))
  const kubeconfig = join(dir, 'kubeconfig')
  // Port 1 on loopback: nothing listens there, so every call is refused at once.
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: down, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: down, user: u } }]
current-context: c
`)
  for (const how of ['flag', 'KUBECONFIG']) {
    const saved = process.env.KUBECONFIG
    if (how === 'KUBECONFIG') process.env.KUBECONFIG = kubeconfig
    t.teardown(() => { process.env.KUBECONFIG = saved })
    const args = how === 'flag' ? ['--kubeconfig', kubeconfig] : []
    const running = await startServe(readServeConfig([...local, '--self-signed', ...args], {}), silent)
    t.teardown(() => running.shutdown())
    const ready = await call(running.port, '/readyz')
    t.equal(ready.status, 503, how)
    t.same(ready.json.reasons, ['namespace cache not synced', 'API server version not read yet'], how)
    const answer = await call(running.port, '/mutate', exampleReview())
    t.equal(answer.status, 500, `${how}: the namespace cannot be read, so the API server's failurePolicy decides`)
    t.match(answer.json, { kind: 'Status', message: 'lameduck cannot decide: namespace "shop" could not be read from the API server' }, how)
  }
})

t.test('a kubeconfig with an exec plugin: client-node makes the credentials, and the log says so', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-main-'))
  const plugin = join(dir, 'get-token')
  await writeFile(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"p"}}\'\n', { mode: 0o755 })
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: down, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never } } }]
contexts: [{ name: c, context: { cluster: down, user: u } }]
current-context: c
`)
  const lines: Array<{ msg: string, reason?: string }> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg: string }) } })
  const running = await startServe(readServeConfig([...local, '--self-signed', '--kubeconfig', kubeconfig], {}), logger)
  t.teardown(() => running.shutdown())
  t.match(lines, [{ msg: 'loading @kubernetes/client-node for the kubeconfig\'s credentials', reason: `kubeconfig ${kubeconfig}: its user uses exec` }])
  t.equal((await call(running.port, '/readyz')).status, 503, 'serving; the cluster is down')
})

t.test('--tls-secret: the pair of a Secret read through the API server, ready once the caBundle trusts it', async t => {
  const now = new Date()
  const ca = await createCa({ validityMs: 86_400_000, now })
  const stranger = await createCa({ validityMs: 86_400_000, now: new Date(now.getTime() + 1000) })
  const names = serviceDnsNames('lameduck', 'hooks')
  const serving = await issueServing(ca, { commonName: 'lameduck', dnsNames: names, validityMs: 3_600_000, now })
  const b64 = (text: string): string => Buffer.from(text).toString('base64')
  const data = { 'tls.crt': b64(serving.cert), 'tls.key': b64(serving.key), 'ca.crt': b64(ca.cert) }
  const secret = { kind: 'Secret', metadata: { name: 'pair', resourceVersion: '1' }, data }
  const listOf = (item: unknown): ApiAnswer => ({
    status: 200,
    body: { items: [item], metadata: { resourceVersion: '1' } }
  })
  const configuration = (bundle: string): unknown => ({
    metadata: { name: 'hook', resourceVersion: '1' },
    webhooks: [{ name: 'pods.lameduck.dev', clientConfig: { caBundle: b64(bundle) } }]
  })
  /**
   * An API server whose webhook configuration trusts `bundle`; a watch ends at once (the client retries after a
   * second).
   */
  const apiServer =
    (bundle: string) =>
    (r: ApiRequest): ApiAnswer => {
      if (r.url.includes('watch=true')) return { status: 200, body: '' }
      if (r.url.startsWith('/api/v1/namespaces/hooks/secrets?fieldSelector=metadata.name%3Dpair'))
        return listOf(secret)
      const webhooks =
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?fieldSelector=metadata.name%3Dhook'
      if (r.url.startsWith(webhooks)) return listOf(configuration(bundle))
      if (r.url === '/version') return { status: 200, body: { major: '1', minor: '37', gitVersion: 'v1.37.2' } }
      return { status: 200, body: { items: [], metadata: { resourceVersion: '1' } } }
    }
  type Started = { running: Awaited<ReturnType<typeof startServe>>, requests: ApiRequest[] }
  const start = async (bundle: string): Promise<Started> => {
    const { url, requests } = await fakeApiServer(t, apiServer(bundle))
    const kubeconfig = await writeKubeconfig(t, url)
    const names = ['--tls-secret', 'pair', '--namespace', 'hooks', '--webhook-configuration', 'hook']
    const flags = [...local, ...names, '--kubeconfig', kubeconfig]
    const running = await startServe(readServeConfig(flags, {}), silent)
    t.teardown(() => running.shutdown())
    return { running, requests }
  }
  const readiness = async (port: number): Promise<{ status: number, json: Answer }> => {
    let answer = await call(port, '/readyz')
    const waiting = (): boolean =>
      answer.status !== 200 && answer.json.reasons.some(r => /not read yet|namespace cache/.test(r))
    for (let i = 0; i < 200 && waiting(); i++) answer = await call(port, '/readyz')
    return answer
  }
  const trusted = await start(ca.cert)
  t.equal((await readiness(trusted.running.port)).status, 200, "ready: the caBundle trusts the Secret's pair")
  const fingerprint = new X509Certificate(serving.cert).fingerprint256
  t.equal(await servedFingerprint(trusted.running.port), fingerprint, "the Secret's pair is served")
  const metrics = await (await fetch(`http://127.0.0.1:${trusted.running.metricsPort}/metrics`)).text()
  t.match(
    metrics,
    /lameduck_certificate_expiry_timestamp_seconds\{certificate="ca"\} \d+/,
    "the CA from the Secret's ca.crt"
  )
  const watched = trusted.requests.some(r =>
    r.url.includes('/secrets?fieldSelector=metadata.name%3Dpair&watch=true')
  )
  t.ok(watched, 'then watched')
  const untrusted = await start(stranger.cert)
  const answer = await readiness(untrusted.running.port)
  t.equal(answer.status, 503)
  t.match(answer.json.reasons, [
    /^the caBundle of MutatingWebhookConfiguration hook \(pods.lameduck.dev\) does not trust the served certificate/
  ])
})

t.test('the process: SIGTERM fails readiness, keeps answering for the drain delay, then exits 0', async t => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/helpers/run-cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--drain-delay', '2s', '--self-signed', '--namespaces-file', 'examples/namespaces.yaml'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', chunk => {
      output += chunk
      const match = /"port":(\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    })
    child.on('exit', code => reject(new Error(`exited early with ${code}: ${output}`)))
  })
  t.equal((await call(port, '/readyz')).status, 200)
  child.kill('SIGTERM')
  const deadline = Date.now() + 5000
  let readiness = 200
  while (readiness === 200 && Date.now() < deadline) readiness = (await call(port, '/readyz')).status
  t.equal(readiness, 503, 'not ready once SIGTERM arrived')
  const during = await call(port, '/mutate', exampleReview())
  t.equal(during.status, 200, '/mutate still answers while draining')
  t.equal(during.headers.connection, 'close')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  t.match(output, /"signal":"SIGTERM"/)
  t.match(output, /"msg":"stopped"/)
})

t.test('the process: a bad flag is one line on stderr and exit 2', async t => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/helpers/run-cli.ts', 'serve', '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += chunk })
  const [code] = await once(child, 'exit')
  t.equal(code, 2)
  t.equal(stderr, 'lameduck serve: --port: "nope" is not a port (0-65535)\n')
})

t.test('a crash is logged, then the server shuts down', async t => {
  const lines: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  let shutdowns = 0
  const running = { port: 0, metricsPort: 0, state: { draining: false }, shutdown: async () => { shutdowns++ } }
  await onClose(running, logger)({ err: new Error('kaboom') })
  t.equal(shutdowns, 1)
  t.match(lines.join(''), /"msg":"crashed"/)
  t.match(lines.join(''), /kaboom/)
})
