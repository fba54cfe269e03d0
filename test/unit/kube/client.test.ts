import t, { type Test } from 'tap'
import http from 'node:http'
import https from 'node:https'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createKubeClient, KubeApiError, type KubeClient, type WatchEvent } from '../../../src/kube/client.js'
import { pair } from '../../helpers/api-server.js'

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** An HTTPS server with the test pair, and a client trusting it (server URL with `prefix`). */
async function serve (t: Test, listener: Listener, prefix = ''): Promise<{ kube: KubeClient, seen: http.IncomingMessage[] }> {
  const seen: http.IncomingMessage[] = []
  const server = https.createServer({ key: pair.key, cert: pair.cert }, (req, res) => {
    seen.push(req)
    listener(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kube = createKubeClient({ server: `https://localhost:${(server.address() as AddressInfo).port}${prefix}`, tls: { ca: pair.cert, rejectUnauthorized: true }, headers: async () => ({ authorization: 'Bearer t' }) })
  t.teardown(async () => { await kube.close(); server.closeAllConnections(); server.close() })
  return { kube, seen }
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }

t.test('requests: JSON both ways, credentials, the server\'s path prefix, a connection each', async t => {
  const bodies: string[] = []
  const { kube, seen } = await serve(t, (req, res) => {
    let text = ''
    req.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => { bodies.push(text); json(res, 200, { path: req.url }) })
  }, '/proxy/')
  t.same(await kube.request('GET', '/version'), { path: '/proxy/version' })
  t.same(await kube.request('PATCH', '/x', [{ op: 'add' }], 'application/json-patch+json'), { path: '/proxy/x' })
  t.same(await kube.request('PUT', '/y', { a: 1 }), { path: '/proxy/y' })
  t.same(seen.map(r => [r.method, r.headers.authorization, r.headers.accept, r.headers['content-type']]), [
    ['GET', 'Bearer t', 'application/json', undefined],
    ['PATCH', 'Bearer t', 'application/json', 'application/json-patch+json'],
    ['PUT', 'Bearer t', 'application/json', 'application/json']
  ])
  t.same(bodies, ['', '[{"op":"add"}]', '{"a":1}'])
  t.equal(new Set(seen.map(r => r.socket)).size, 3, 'no pooled connection that may have gone dead while idle')
})

t.test('an error status is a KubeApiError with the code and what the API server sent', async t => {
  const { kube } = await serve(t, (_req, res) => { json(res, 404, { kind: 'Status', message: 'not found' }) })
  const err = await kube.request('GET', '/api/v1/namespaces/x').catch((e: unknown) => e)
  t.ok(err instanceof KubeApiError)
  t.match(err, { code: 404, body: '{"kind":"Status","message":"not found"}', message: 'GET /api/v1/namespaces/x: the API server answered 404' })
})

const WAITING = '{"kind":"Status","message":"waiting to start"}'

t.test('text: a log as sent, an empty one (204), an error status as a KubeApiError', async t => {
  const { kube } = await serve(t, (req, res) => {
    if (req.url === '/log') res.writeHead(200, { 'content-type': 'text/plain' }).end('line 1\nline 2\n')
    else if (req.url === '/empty') res.writeHead(204).end()
    else res.writeHead(400, { 'content-type': 'application/json' }).end(WAITING)
  })
  t.equal(await kube.text('/log'), 'line 1\nline 2\n')
  t.equal(await kube.text('/empty'), '')
  const refused = { code: 400, body: WAITING, message: 'GET /waiting: the API server answered 400' }
  await t.rejects(kube.text('/waiting'), refused)
})

t.test('plain HTTP (an insecure local API server), and an API server that does not answer', async t => {
  const server = http.createServer((req, res) => { if (req.url !== '/hang') json(res, 200, { ok: true }) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kube = createKubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tls: { rejectUnauthorized: true }, headers: async () => ({}) }, 100)
  t.teardown(async () => { await kube.close(); server.closeAllConnections(); server.close() })
  t.same(await kube.request('GET', '/ok'), { ok: true })
  await t.rejects(kube.request('GET', '/hang'), { message: 'no answer within 0.1 s' })
})

t.test('a watch: lines as events (split anywhere, even inside a character), its end, its failures', async t => {
  let respond: (res: http.ServerResponse, req: http.IncomingMessage) => void = () => {}
  const { kube } = await serve(t, (req, res) => { respond(res, req) })
  const events: WatchEvent[] = []
  const added = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'é' } } })
  const bytes = Buffer.from(`${added}\n\n{"type":"BOOKMARK","object":{}}\n`)
  const cut = bytes.indexOf(Buffer.from('é')) + 1
  respond = res => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write(bytes.subarray(0, cut))
    setTimeout(() => { res.end(bytes.subarray(cut)) }, 20)
  }
  const watch = await kube.watch('/w', e => { events.push(e) }, new AbortController().signal)
  await watch.ended
  t.same(events, [JSON.parse(added), { type: 'BOOKMARK', object: {} }])

  respond = res => { res.writeHead(410, { 'content-type': 'application/json' }).end('{"code":410}') }
  await t.rejects(kube.watch('/w', () => {}, new AbortController().signal), { code: 410, body: '{"code":410}', message: 'watch /w: the API server answered 410' })

  respond = res => { res.writeHead(200).end('not json\n') }
  const bad = await kube.watch('/w', () => {}, new AbortController().signal)
  await t.rejects(bad.ended, SyntaxError, 'a line that is not JSON ends the watch with an error')

  respond = res => { res.writeHead(200); res.write(`${added}\n`) }
  const aborted = new AbortController()
  const open = await kube.watch('/w', () => {}, aborted.signal)
  aborted.abort()
  await t.rejects(open.ended, Error, 'stopped')

  respond = (res, req) => { res.writeHead(200); res.write(`${added}\n`); setTimeout(() => { req.socket.destroy() }, 20) }
  const reset = await kube.watch('/w', () => {}, new AbortController().signal)
  await t.rejects(reset.ended, Error, 'a connection cut mid-watch is a failure')
})
