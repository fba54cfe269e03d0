import t from 'tap'
import type { InjectOptions } from 'fastify'
import { request as httpsRequest } from 'node:https'
import { connect, type PeerCertificate } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { createSelfSignedKeyPair } from '../../../src/tls/key-pair.js'
import { LIMITS, exampleReview } from '../../helpers/pods.js'
import { captureLogs, testServer } from '../../helpers/server.js'

const json = { 'content-type': 'application/json' }

t.test('POST /mutate answers an AdmissionReview with a patch', async t => {
  const { app } = await testServer(t)
  const response = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.response.uid, '4f8c6c1e-2b7a-4d6e-9a51-0c1d2e3f4a5b')
  t.equal(body.response.patchType, 'JSONPatch')
  t.match(body.response.warnings, [/raised from 30 to 45/])
  t.equal(response.headers.connection, 'keep-alive')
})

t.test('bad requests get a JSON error naming what is wrong, and the server keeps serving', async t => {
  const { app, deps } = await testServer(t)
  const big = JSON.stringify({ ...exampleReview(), padding: 'x'.repeat(70 * 1024) })
  const cases: Array<[string, InjectOptions, number, RegExp]> = [
    ['not JSON', { headers: json, payload: '{"kind":' }, 400, /not valid JSON/],
    ['an empty body', { headers: json, payload: '' }, 400, /empty/i],
    ['not an AdmissionReview', { headers: json, payload: { kind: 'Pod' } }, 400, /^not an AdmissionReview: kind must be AdmissionReview, not "Pod"$/],
    ['a Pod without containers', { headers: json, payload: { ...exampleReview(), request: { ...exampleReview().request, object: { spec: {} } } } }, 400, /request\.object\.spec\.containers must be an array/],
    ['the wrong content type', { headers: { 'content-type': 'text/plain' }, payload: 'hello' }, 415, /^content-type "text\/plain" is not accepted: send an AdmissionReview as application\/json$/],
    ['no content type', { payload: Buffer.from('hello') }, 415, /^content-type "" is not accepted/],
    ['too large', { headers: json, payload: big }, 413, /^request body is larger than 65536 bytes \(--body-limit\)$/]
  ]
  for (const [name, options, status, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/mutate', ...options })
    t.equal(response.statusCode, status, name)
    t.match(response.json().error, message, name)
  }
  t.equal((await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })).statusCode, 200, 'still serving')
  t.match(await deps.metrics.registry.metrics(), /lameduck_http_rejected_total\{status="400"\} 4/)
})

t.test('an unexpected error in a route is a 500 with a JSON error that tells nothing of it', async t => {
  const { logger, lines } = captureLogs()
  const { app } = await testServer(t, { logger })
  app.get('/boom', async () => { throw new Error('secret internals') })
  const response = await app.inject({ url: '/boom' })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { error: 'internal server error (see the webhook log)' })
  t.match(lines.find(line => line.msg === 'request failed'), { level: 50, err: { message: 'secret internals' } }, 'the log has it')
})

t.test('a namespace that cannot be read: 500 with a short message, logged and counted apart from bugs', async t => {
  const { logger, lines } = captureLogs()
  const unreadable = { get: async () => { throw new Error('connect ECONNREFUSED 10.96.0.1:443') }, ready: () => true, close: async () => {} }
  const { app, deps } = await testServer(t, { logger, namespaces: unreadable })
  const response = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
  t.equal(response.statusCode, 500)
  t.match(response.json(), { kind: 'Status', code: 500, message: 'lameduck cannot decide: namespace "shop" could not be read from the API server' })
  t.match(lines.find(line => line.decision === 'unavailable'), { level: 50, msg: /answered 500/, err: { message: /ECONNREFUSED/ } })
  const metrics = await deps.metrics.registry.metrics()
  t.match(metrics, /lameduck_admission_reviews_total\{decision="unavailable"\} 1/)
  t.match(metrics, /lameduck_http_rejected_total\{status="500"\} 1/)
  t.notMatch(metrics, /decision="error"/, 'not counted as a bug of ours')
})

t.test('what auto means is read per request', async t => {
  let handler: 'sleep' | 'exec' = 'exec'
  const { app } = await testServer(t, { limits: () => ({ ...LIMITS, autoHandler: handler }) })
  const hookOf = async (): Promise<string> => {
    const response = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
    return Buffer.from(response.json().response.patch, 'base64').toString()
  }
  t.match(await hookOf(), /handler=exec/, 'exec while the API server version is unknown')
  handler = 'sleep'
  t.match(await hookOf(), /handler=sleep/, 'sleep once it is known')
})

t.test('health and readiness', async t => {
  let synced = false
  const namespaces = { get: async () => undefined, ready: () => synced, close: async () => {} }
  const { app, state } = await testServer(t, { namespaces })
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  const notSynced = await app.inject({ url: '/readyz' })
  t.equal(notSynced.statusCode, 503)
  t.same(notSynced.json(), { ready: false, reasons: ['namespace cache not synced'] })
  synced = true
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  state.draining = true
  t.same((await app.inject({ url: '/readyz' })).json(), { ready: false, reasons: ['shutting down'] })
  const draining = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
  t.equal(draining.statusCode, 200, '/mutate still answers while draining')
  t.equal(draining.headers.connection, 'close', 'and asks the API server to reconnect elsewhere')
  t.equal((await app.inject({ url: '/nowhere' })).statusCode, 404)
})

t.test('one log line per decision, without the Pod', async t => {
  const { logger, lines } = captureLogs()
  const broken = { get: async () => ({ name: 'shop', labels: null as unknown as Record<string, string>, annotations: {} }), ready: () => true, close: async () => {} }
  const { app } = await testServer(t, { logger })
  await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
  const decision = lines.find(line => line.msg === 'admission')
  t.match(decision, { uid: '4f8c6c1e-2b7a-4d6e-9a51-0c1d2e3f4a5b', namespace: 'shop', name: 'web-7d9f8b6c5-', decision: 'mutate', dryRun: false, warnings: 1 })
  t.type(decision?.ms, 'number')
  t.type(decision?.patchBytes, 'number')
  t.notMatch(JSON.stringify(lines), /LOG_LEVEL/, 'no env values from the Pod in the log')
  const failing = await testServer(t, { logger, namespaces: broken })
  const response = await failing.app.inject({ method: 'POST', url: '/mutate', headers: json, payload: exampleReview() })
  t.equal(response.json().response.allowed, true, 'a bug of ours never blocks a Pod')
  t.match(lines.find(line => line.msg === 'admission failed open'), { level: 50, decision: 'error', err: { type: 'TypeError' } })
})

async function peerCertificate (port: number, ca: string): Promise<PeerCertificate> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate())
      socket.end()
    })
    socket.on('error', reject)
  })
}

t.test('over real TLS: 1.2 or newer, keep-alive above 90 s, key pair reloaded for new connections', async t => {
  const { app, tls, pair } = await testServer(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  t.ok(app.server.keepAliveTimeout > 90_000, 'keep-alive timeout above the API server\'s 90 s idle timeout')
  const answer = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca: pair.cert, servername: 'localhost', headers: json }, res => { res.resume(); resolve(res.statusCode!) })
    req.on('error', reject)
    req.end(JSON.stringify(exampleReview()))
  })
  t.equal(answer, 200)
  const old = await new Promise<Error>(resolve => {
    const socket = connect({ host: '127.0.0.1', port, ca: pair.cert, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })
    socket.on('error', resolve)
  })
  t.match(old.message, /protocol|version/i, 'TLS 1.1 is refused')

  const first = new X509Certificate(pair.cert).fingerprint256
  const open = connect({ host: '127.0.0.1', port, ca: pair.cert, servername: 'localhost' })
  await new Promise(resolve => open.once('secureConnect', resolve))
  const next = await createSelfSignedKeyPair()
  tls.switchTo(next)
  t.equal((await peerCertificate(port, next.cert)).fingerprint256, new X509Certificate(next.cert).fingerprint256, 'a new connection gets the new certificate')
  t.notOk(open.destroyed, 'the connection opened before the switch is still up')
  t.equal(open.getPeerCertificate().fingerprint256, first)
  open.end()
})

t.test('a workload review is logged with the workload\'s name and answered without a patch', async t => {
  const { logger, lines } = captureLogs()
  const { app } = await testServer(t, { logger })
  const review = exampleReview()
  Object.assign(review.request, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation: 'UPDATE', object: { metadata: { name: 'web' }, spec: { template: review.request.object } } })
  const response = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: review })
  t.equal(response.json().response.patch, undefined)
  t.match(lines.find(line => line.msg === 'admission'), { name: 'web', decision: 'skip', reason: /^Deployment reviewed/ })
})
