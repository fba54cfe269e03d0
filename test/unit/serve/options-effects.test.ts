// Every `lameduck serve` flag by its effect, through the entry point: the CLI as the bin runs it (a
// process, under tap's loader so that its coverage counts), started three times, once per source of
// the key pair — offline from a namespaces file with certificate files, with a self-signed one, and
// against a fake API server with the renewal on, serving a Secret's — each flag set away from its
// default. Each row checks what the running server does; a flag dropped on its way in (as
// --no-advice once was: read, then not passed to the admission core) shows the default's behaviour
// and fails its row. A serve flag without a row fails the last test.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { createServer, type AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { connect, type TLSSocket } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { X509Certificate } from 'node:crypto'
import type { Operation } from 'fast-json-patch'
import { SERVE_OPTIONS } from '../../../src/serve/options.js'
import {
  failure, fakeApiServer, pair, writeTwoContextKubeconfig, type ApiRequest, type ApiAnswer
} from '../../helpers/api-server.js'
import { applyPatch, exampleReview } from '../../helpers/pods.js'
import { servedFingerprint } from '../../helpers/served.js'
import type { Pod } from '../../../src/admission/pod.js'

/** A loopback port that was free a moment ago. */
async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

interface Answer { status: number, json: Record<string, unknown> }

/** An HTTPS call to the server (any certificate: which one it serves is a row of its own). */
async function call (port: number, path: string, body?: unknown, host = '127.0.0.1'): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return await new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json' }
    const method = body === undefined ? 'GET' : 'POST'
    const req = request({ host, port, path, method, rejectUnauthorized: false, agent: false, headers }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', chunk => { text += chunk }).on('end', () => {
        const json = text.startsWith('{') ? JSON.parse(text) as Record<string, unknown> : {}
        resolve({ status: res.statusCode!, json })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** A running `lameduck serve`: its ports, what it logged, and a SIGTERM that says how long it took to exit. */
interface Served { port: number, metricsPort: number, log: () => string, terminate: () => Promise<number> }

/** Starts `lameduck serve ARGS` through the CLI; resolves once /healthz answers. Stopped at teardown. */
async function serve (args: string[]): Promise<Served> {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const cli = [...process.execArgv, 'test/helpers/run-cli.ts', 'serve']
  const ports = ['--port', String(port), '--metrics-port', String(metricsPort)]
  const child = spawn(process.execPath, [...cli, ...ports, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { log += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { log += chunk })
  const exited = once(child, 'exit')
  t.teardown(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
  const healthy = async (): Promise<boolean> => (await call(port, '/healthz').catch(() => undefined))?.status === 200
  for (const start = Date.now(); !await healthy(); await sleep(100)) {
    if (child.exitCode !== null || Date.now() - start > 60_000) throw new Error(`lameduck serve did not start: ${log}`)
  }
  const terminate = async (): Promise<number> => {
    const start = Date.now()
    child.kill('SIGTERM')
    await exited
    return Date.now() - start
  }
  return { port, metricsPort, log: () => log, terminate }
}

/** An AdmissionReview of examples/' Pod (grace 30, two containers) created in `namespace`. */
function podReview (namespace: string, padding = ''): ReturnType<typeof exampleReview> {
  const review = exampleReview()
  review.request.namespace = namespace
  if (padding !== '') review.request.object.metadata = { ...review.request.object.metadata, annotations: { padding } }
  return review
}

/** The Pod as `served` patched it; undefined without a patch. */
async function patched (served: Served, review: ReturnType<typeof exampleReview>): Promise<Pod | undefined> {
  const answer = await call(served.port, '/mutate', review)
  const response = answer.json.response as { patch?: string } | undefined
  if (response?.patch === undefined) return undefined
  const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as Operation[]
  return applyPatch(review.request.object, operations)
}

/** What `served` wrote on the Pod: `sleep=… grace=… handler=… containers=…`; undefined without a patch. */
async function injected (served: Served, review: ReturnType<typeof exampleReview>): Promise<string | undefined> {
  return (await patched(served, review))?.metadata?.annotations?.['lameduck.dev/injected']
}

/** Where the adaptive pause's program comes from in `pod`: its image volume's, or its init container's image. */
function pauseSource (pod: Pod | undefined): { volume?: string, init?: string } {
  const volumes = (pod?.spec.volumes ?? []) as Array<{ name: string, image?: { reference: string } }>
  const volume = volumes.find(v => v.name === 'lameduck-pause')?.image?.reference
  const init = pod?.spec.initContainers?.find(c => c.name === 'lameduck-pause')?.image
  return { ...volume === undefined ? {} : { volume }, ...init === undefined ? {} : { init } }
}

/** A Deployment (UPDATE) whose container has a port and no readiness probe: advice-worthy. */
function deploymentReview (namespace: string): Record<string, unknown> {
  const container = { name: 'web', image: 'example/app:1', ports: [{ containerPort: 8080 }] }
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } }
  const metadata = { name: 'web', namespace }
  const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: { replicas: 3, template } }
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace, operation: 'UPDATE', object, oldObject: object, userInfo: { username: 'u' }
    }
  }
}

const warningsOf = (answer: Answer): string[] => (answer.json.response as { warnings?: string[] }).warnings ?? []

/** A TLS connection, once its handshake is done, or the error that ended it first. */
async function handshake (port: number, host = '127.0.0.1'): Promise<TLSSocket | Error> {
  return await new Promise(resolve => {
    const socket = connect({ host, port, rejectUnauthorized: false })
    socket.once('secureConnect', () => { resolve(socket) })
    socket.once('error', resolve)
    socket.once('close', () => { resolve(new Error('closed before the handshake')) })
  })
}

/** Writes `text` on a new connection; the server's answer and when it came, or after `ms` what it had said. */
async function stall (port: number, text: string, ms: number): Promise<{ answer: string, ms: number }> {
  const socket = await handshake(port)
  if (socket instanceof Error) throw socket
  const start = Date.now()
  let answer = ''
  socket.on('data', chunk => { answer += String(chunk) })
  socket.on('error', () => {})
  socket.write(text)
  await Promise.race([once(socket, 'close'), sleep(ms)])
  socket.destroy()
  return { answer, ms: Date.now() - start }
}

// The cluster of the `far` context: opted-in namespace shop; in namespace hooks a Lease and Secrets as
// they are written; webhook configuration hook, whose caBundle trusts another CA until the renewal
// patches it (so that the renewal's overlap shows). A watch ends at once: the client lists again.
const secrets = new Map<string, ApiRequest['body']>()
const otherCa = Buffer.from(pair.cert).toString('base64')
let webhook = {
  metadata: { name: 'hook', resourceVersion: '1' },
  webhooks: [{ name: 'pods.lameduck.dev', clientConfig: { caBundle: otherCa } }]
}
const shop = { metadata: { name: 'shop', resourceVersion: '3', labels: { 'lameduck.dev/inject': 'enabled' } } }
const listOf = (items: unknown[]): ApiAnswer => ({ status: 200, body: { metadata: { resourceVersion: '3' }, items } })
function cluster ({ method, url, body }: ApiRequest): ApiAnswer {
  const path = url.split('?')[0]!
  if (path === '/version') return { status: 200, body: { major: '1', minor: '37', gitVersion: 'v1.37.2' } }
  if (path === '/api/v1/namespaces') {
    if (url.includes('watch=')) return { status: 200, body: '', hold: true }
    return listOf([shop])
  }
  if (url.includes('watch=true')) return { status: 200, body: '' }
  if (path === '/apis/coordination.k8s.io/v1/namespaces/hooks/leases/lameduck-renew') {
    return { status: 200, body: method === 'PUT' ? body : { metadata: { resourceVersion: '1' }, spec: {} } }
  }
  if (path === '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations') {
    return listOf(url.includes('metadata.name%3Dhook') ? [webhook] : [])
  }
  if (path === '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/hook') {
    const metadata = { name: 'hook', resourceVersion: '2' }
    if (method === 'PATCH') webhook = { ...applyPatch(webhook, body as Operation[]), metadata }
    return { status: 200, body: webhook }
  }
  const secret = /^\/api\/v1\/namespaces\/hooks\/secrets(?:\/([a-z-]+))?$/.exec(path)
  if (secret !== null && method !== 'GET') {
    const name = (body as { metadata: { name: string } }).metadata.name
    secrets.set(name, { ...body as object, metadata: { name, resourceVersion: String(secrets.size + 10) } })
    return { status: 201, body }
  }
  if (secret !== null && secret[1] === undefined) {
    const name = /metadata\.name%3D([a-z-]+)/.exec(url)?.[1]
    return listOf(name !== undefined && secrets.has(name) ? [secrets.get(name)] : [])
  }
  if (secret !== null && secrets.has(secret[1]!)) return { status: 200, body: secrets.get(secret[1]!) }
  return failure(404, 'not found')
}
const near = await fakeApiServer(t, () => failure(403, 'the current context is not the one asked for'))
const far = await fakeApiServer(t, cluster)
const kubeconfig = await writeTwoContextKubeconfig(t, near.url, far.url)
// The test's directory, which writeTwoContextKubeconfig made.
const dir = dirname(kubeconfig)
const namespaces = [
  ['shop', {}], ['skip', {}],
  ['big', { 'lameduck.dev/prestop-sleep': '100s', 'lameduck.dev/shutdown-budget': '100s' }]
].map(([name, annotations]) => ({
  apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'lameduck.dev/inject': 'enabled' }, annotations }
}))
await writeFile(join(dir, 'namespaces.yaml'), namespaces.map(ns => JSON.stringify(ns)).join('\n---\n'))
await writeFile(join(dir, 'tls.crt'), pair.cert)
await writeFile(join(dir, 'tls.key'), pair.key)

const [offline, selfSigned, inCluster] = await Promise.all([
  serve([
    '--host', '127.0.0.1', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'),
    '--namespaces-file', join(dir, 'namespaces.yaml'),
    '--default-sleep', '7s', '--default-shutdown-budget', '40s', '--max-sleep', '40s', '--max-grace', '50s',
    '--exclude-namespaces', 'skip', '--no-advice', '--drain-delay', '2s', '--headers-timeout', '1s',
    '--request-timeout', '2s', '--max-connections', '3', '--body-limit', '16KiB', '--cert-expiry-warning', '100000h',
    '--log-level', 'warn'
  ]),
  serve(['--self-signed', '--namespaces-file', join(dir, 'namespaces.yaml')]),
  serve([
    '--tls-secret', 'served', '--namespace', 'hooks', '--webhook-configuration', 'hook',
    '--kubeconfig', kubeconfig, '--context', 'far',
    '--default-handler', 'adaptive', '--pause-image', 'r.example/pause:1', '--pause-delivery', 'image-volume',
    '--renew-certs', '--renew-validity', '2h', '--renew-ca-validity', '3h', '--renew-overlap', '7m'
  ])
])

/** The certificate (tls.crt) of a Secret the renewal wrote. */
function certificateOf (secret: string): X509Certificate | undefined {
  const data = (secrets.get(secret) as { data: Record<string, string> } | undefined)?.data['tls.crt']
  return data === undefined ? undefined : new X509Certificate(Buffer.from(data, 'base64'))
}

/** A certificate's lifetime from now, in minutes, from a Secret the renewal wrote. */
function minutesLeft (secret: string): number {
  const certificate = certificateOf(secret)
  return certificate === undefined ? NaN : (Date.parse(certificate.validTo) - Date.now()) / 60_000
}


/** The flag, and what it does: each row must fail with the flag's default. */
const FLAG_EFFECTS: Array<[string, (t: Test) => Promise<void>]> = [
  ['host', async t => {
    t.equal((await call(offline.port, '/healthz')).status, 200, 'on 127.0.0.1')
    t.match(await handshake(offline.port, '127.0.0.2'), { code: 'ECONNREFUSED' }, 'not on 127.0.0.2, as on 0.0.0.0')
  }],
  ['port', async t => { t.equal((await call(offline.port, '/healthz')).status, 200) }],
  ['metrics-port', async t => {
    const text = await (await fetch(`http://127.0.0.1:${offline.metricsPort}/metrics`)).text()
    t.match(text, /lameduck_admission_reviews_total/)
  }],
  ['self-signed', async t => {
    const socket = await handshake(selfSigned.port) as TLSSocket
    const served = socket.getPeerX509Certificate()!
    socket.destroy()
    t.equal(served.issuer, served.subject, 'a self-signed certificate')
    t.match(served.subjectAltName, /DNS:localhost/)
  }],
  ['tls-cert', async t => {
    const file = new X509Certificate(pair.cert).fingerprint256
    t.equal(await servedFingerprint(offline.port), file, 'the file\'s certificate')
  }],
  ['tls-key', async t => { t.equal((await call(offline.port, '/healthz')).status, 200, 'TLS with the file\'s key') }],
  ['namespaces-file', async t => {
    t.match(await injected(offline, podReview('big')), /^sleep=/, 'namespace big, known only from the file')
  }],
  ['kubeconfig', async t => {
    t.ok(far.requests.some(r => r.url.startsWith('/api/v1/namespaces')), 'the namespaces listed from its cluster')
  }],
  ['context', async t => {
    t.ok(far.requests.every(r => r.authorization === 'Bearer far-token'), 'the far context\'s user')
    t.same(near.requests, [], 'nothing to the current context')
  }],
  ['default-sleep', async t => {
    t.match(await injected(offline, podReview('shop')), /^sleep=7s /)
  }],
  ['default-shutdown-budget', async t => {
    t.match(await injected(offline, podReview('shop')), / grace=47s /, '7 s + 40 s, over the Pod\'s 30 s')
  }],
  ['max-sleep', async t => {
    t.match(await injected(offline, podReview('big')), /^sleep=40s /, 'the annotation\'s 100 s, clamped')
  }],
  ['max-grace', async t => {
    t.match(await injected(offline, podReview('big')), / grace=50s /, '40 s + 100 s, clamped')
  }],
  ['default-handler', async t => {
    t.match(await injected(inCluster, podReview('shop')), / handler=adaptive /, 'auto would be sleep on 1.37')
  }],
  ['pause-image', async t => {
    const source = pauseSource(await patched(inCluster, podReview('shop')))
    t.same(Object.values(source), ['r.example/pause:1'], 'the program from the image named')
  }],
  ['pause-delivery', async t => {
    const source = pauseSource(await patched(inCluster, podReview('shop')))
    t.same(Object.keys(source), ['volume'], 'an image volume, where auto would choose the init container')
  }],
  ['exclude-namespaces', async t => {
    t.equal(await injected(offline, podReview('skip')), undefined, 'an opted-in namespace left alone')
  }],
  ['no-advice', async t => {
    const advice = (warnings: string[]): string[] => warnings.filter(warning => warning.includes('readinessProbe'))
    t.same(advice(warningsOf(await call(offline.port, '/mutate', deploymentReview('shop')))), [], 'no advice')
    const given = advice(warningsOf(await call(inCluster.port, '/mutate', deploymentReview('shop'))))
    t.match(given, [/has ports but no readinessProbe/], 'as there is without the flag')
  }],
  ['headers-timeout', async t => {
    const headers = await stall(offline.port, 'POST /mutate HTTP/1.1\r\nHost: x\r\n', 5000)
    t.match(headers.answer, /^HTTP\/1\.1 408/, `headers that never end, cut after ${headers.ms} ms`)
  }],
  ['request-timeout', async t => {
    const headers = 'POST /mutate HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n'
    const body = await stall(offline.port, `${headers}{`, 6000)
    t.match(body.answer, /^HTTP\/1\.1 408/, 'a body that never ends')
    t.ok(body.ms >= 1500 && body.ms < 4500, `cut after the request timeout, 2 s (${body.ms} ms)`)
  }],
  ['max-connections', async t => {
    const open = await Promise.all([1, 2, 3].map(async () => await handshake(offline.port)))
    t.ok(open.every(socket => !(socket instanceof Error)), 'three connections')
    t.type(await handshake(offline.port), Error, 'a fourth is closed before its handshake')
    for (const socket of open) if (!(socket instanceof Error)) socket.destroy()
    await sleep(100)
  }],
  ['body-limit', async t => {
    t.equal((await call(offline.port, '/mutate', podReview('shop'))).status, 200, 'a review of 4 KiB')
    const large = podReview('shop', 'x'.repeat(20_000))
    t.equal((await call(offline.port, '/mutate', large)).status, 413, 'one of 24 KiB, over 16 KiB')
  }],
  ['renew-certs', async t => {
    for (const start = Date.now(); !secrets.has('served') && Date.now() - start < 30_000;) await sleep(100)
    t.ok(far.requests.some(r => r.method === 'PUT' && r.url.endsWith('/leases/lameduck-renew')), 'under the Lease')
    t.ok(secrets.has('lameduck-ca') && secrets.has('served'), 'the CA and serving Secrets written')
  }],
  ['tls-secret', async t => {
    const written = (): string | undefined => certificateOf('served')?.fingerprint256
    const serving = async (): Promise<boolean> => written() === await servedFingerprint(inCluster.port)
    for (const start = Date.now(); !await serving() && Date.now() - start < 30_000;) await sleep(200)
    t.ok(await serving(), 'the certificate the renewal wrote into Secret served is the one served')
    let ready = await call(inCluster.port, '/readyz')
    for (const start = Date.now(); ready.status !== 200 && Date.now() - start < 30_000; await sleep(200)) {
      ready = await call(inCluster.port, '/readyz')
    }
    t.equal(ready.status, 200, 'ready once the caBundle trusts it')
  }],
  ['namespace', async t => {
    const where = far.requests.map(r => /\/namespaces\/([^/]+)\/(secrets|leases)\b/.exec(r.url)).filter(m => m !== null)
    t.same(new Set(where.map(match => match[2])), new Set(['secrets', 'leases']), 'Secrets and the Lease asked for')
    t.same(new Set(where.map(match => match[1])), new Set(['hooks']), 'in hooks, none elsewhere')
  }],
  ['webhook-configuration', async t => {
    const patched = far.requests.filter(r => r.method === 'PATCH').map(r => r.url)
    t.same(patched, ['/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/hook'], 'the caBundle set')
    t.match(webhook.webhooks[0]!.clientConfig.caBundle, /^.{100,}$/, 'the patch landed')
    const list = 'mutatingwebhookconfigurations?fieldSelector=metadata.name%3Dhook'
    const watched = far.requests.some(r => r.url.includes(list))
    t.ok(watched, 'and its caBundle is what readiness checks')
  }],
  ['renew-validity', async t => {
    const left = minutesLeft('served')
    t.ok(left > 115 && left <= 120, `a serving certificate for 2 h (${left.toFixed(1)} min left)`)
  }],
  ['renew-ca-validity', async t => {
    const left = minutesLeft('lameduck-ca')
    t.ok(left > 175 && left <= 180, `a CA for 3 h (${left.toFixed(1)} min left)`)
  }],
  ['renew-overlap', async t => {
    const done = (): boolean => inCluster.log().includes('certificate renewal: done')
    for (const start = Date.now(); !done() && Date.now() - start < 30_000;) await sleep(100)
    const until = /the previous CA stays in the caBundle until ([^,]+),/.exec(inCluster.log())?.[1]
    const minutes = (Date.parse(until ?? '') - Date.now()) / 60_000
    t.ok(minutes > 6 && minutes <= 7, `the other CA trusted 7 min more (${minutes.toFixed(1)})`)
  }],
  ['cert-expiry-warning', async t => {
    t.match(offline.log(), /TLS certificate expires soon/, 'a certificate valid for less than 100,000 h')
  }],
  ['log-level', async t => {
    t.notMatch(offline.log(), /"msg":"lameduck is serving"/, 'no info lines at warn')
    t.match(inCluster.log(), /"msg":"lameduck is serving"/, 'as at info')
  }],
  ['drain-delay', async t => {
    const ms = await offline.terminate()
    t.ok(ms >= 2000 && ms < 4500, `SIGTERM to exit: the 2 s drain delay (${ms} ms)`)
  }]
]

for (const [flag, effect] of FLAG_EFFECTS) t.test(`--${flag}`, effect)

t.test('every serve flag has a row, and no row names a flag that does not exist', async t => {
  t.same(FLAG_EFFECTS.map(([flag]) => flag).sort(), SERVE_OPTIONS.map(spec => spec.name).sort())
})

t.teardown(async () => { await Promise.all([inCluster.terminate(), selfSigned.terminate()]) })
