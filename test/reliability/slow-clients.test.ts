// Slow clients: 3,000 TLS connections that never finish a request (a third send nothing, a third
// stop in the middle of their headers, a third in the middle of their body), against the real
// `lameduck serve`, compiled, run with the shipped Deployment's NODE_OPTIONS and the default
// --max-connections. Its RSS must stay under the Deployment's memory limit and /mutate must keep
// answering over the kept-alive connections it already had (as the API server's are); the
// connections over the cap are closed before their handshake, every accepted one gets its 408 and is
// closed by --headers-timeout or --request-timeout, and then new connections are accepted again. An
// idle kept-alive connection, like the ones the API server pools, must outlive both timeouts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { connect, type TLSSocket } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { deploymentMemoryLimit, rssBytes, compiledEntry, startServeProcess } from '../helpers/serve-process.js'
import { failed, startSteadyLoad } from '../helpers/steady-load.js'
import { report, scaled } from '../helpers/reliability.js'
import { SERVE_OPTIONS } from '../../src/serve/options.js'

const BODY = readFileSync(new URL('../../bench/fixtures/deployment-pod-review.json', import.meta.url), 'utf8')
const CLIENTS = scaled(3000, 6000)
const HEADERS_TIMEOUT_S = 20
const REQUEST_TIMEOUT_S = 25
const MB = 1024 * 1024
/** serve's default --max-connections (src/serve/options.ts), which the test does not override. */
const MAX_CONNECTIONS = Number(SERVE_OPTIONS.find(o => o.name === 'max-connections')!.default)

/** What a slow client sends before it stalls. */
const STALLS = ['', 'POST /mutate HTTP/1.1\r\nHost: lameduck\r\ncontent-type: application/json\r\n', `POST /mutate HTTP/1.1\r\nHost: lameduck\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY.slice(0, 1000)}`]

interface Slow { socket: TLSSocket, accepted: boolean, answer: string, closedAt?: number }

/** Opens one slow client; resolves once its handshake is done and its part written, or once it is refused. */
function openSlow (port: number, text: string): Promise<Slow> {
  return new Promise(resolve => {
    const slow: Slow = { socket: connect({ host: '127.0.0.1', port, rejectUnauthorized: false }), accepted: false, answer: '' }
    slow.socket.on('data', chunk => { slow.answer += String(chunk) })
    slow.socket.on('close', () => { slow.closedAt = performance.now(); resolve(slow) })
    slow.socket.once('secureConnect', () => { slow.accepted = true; if (text !== '') slow.socket.write(text); resolve(slow) })
    slow.socket.on('error', () => {}) // refused before the handshake, or reset after the 408: both end in close
  })
}

t.test(`${CLIENTS} slow clients: RSS under the Deployment's limit, /mutate answering, the ones over the cap refused, every other one timed out with a 408`, async t => {
  t.setTimeout(600_000)
  const limit = await deploymentMemoryLimit()
  const webhook = await startServeProcess({ entry: await compiledEntry(), args: ['--self-signed', '--namespaces-file', 'examples/namespaces.yaml', '--log-level', 'warn', '--headers-timeout', `${HEADERS_TIMEOUT_S}s`, '--request-timeout', `${REQUEST_TIMEOUT_S}s`], bare: true })
  t.teardown(() => webhook.stop(1000))
  const origin = `https://127.0.0.1:${webhook.port}`
  const rss: number[] = []
  const sampler = setInterval(() => { void rssBytes(webhook.pid).then(b => rss.push(b), () => {}) }, 250)
  t.teardown(() => { clearInterval(sampler) })

  // A kept-alive connection used once, then idle through both timeouts, as the API server's pool keeps them.
  const kept = new Pool(origin, {
    connections: 1,
    connect: { rejectUnauthorized: false },
    keepAliveTimeout: 600_000,
    keepAliveMaxTimeout: 600_000
  })
  t.teardown(() => kept.destroy())
  let keptConnects = 0
  kept.on('connect', () => { keptConnects++ })
  await (await kept.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: BODY })).body.text()

  const load = startSteadyLoad({ origin, body: BODY, rate: 20, tls: { rejectUnauthorized: false } })
  const openedFrom = performance.now()
  const slow: Slow[] = []
  for (let i = 0; i < CLIENTS; i += 100) {
    slow.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) =>
          openSlow(webhook.port, STALLS[(i + j) % STALLS.length]!)
        )
      ))
    )
  }
  const openedMs = performance.now() - openedFrom
  const accepted = slow.filter(s => s.accepted)
  const openAtOnce = accepted.filter(s => s.closedAt === undefined).length
  await sleep(3000) // the accepted ones open at once, for a while
  const peakWhileOpen = Math.max(...rss)
  t.ok(accepted.length >= MAX_CONNECTIONS - 20 && accepted.length <= MAX_CONNECTIONS, `${accepted.length} accepted, up to the cap of ${MAX_CONNECTIONS} with the test's own (${CLIENTS} tried in ${(openedMs / 1000).toFixed(1)} s)`)
  t.equal(openAtOnce, accepted.length, 'all the accepted ones open at once')
  t.ok(slow.filter(s => !s.accepted).every(s => s.closedAt !== undefined), 'the others closed before any handshake')
  t.ok(peakWhileOpen < limit, `RSS ${(peakWhileOpen / MB).toFixed(0)} MB with them open, under the Deployment's ${limit / MB} MiB limit`)

  const deadline = performance.now() + (REQUEST_TIMEOUT_S + 30) * 1000
  while (slow.some(s => s.closedAt === undefined) && performance.now() < deadline) await sleep(500)
  const sent = await load.stop()
  const open = slow.filter(s => s.closedAt === undefined)
  t.equal(open.length, 0, 'the server closed every slow connection')
  const with408 = accepted.filter(s => s.answer.startsWith('HTTP/1.1 408')).length
  t.equal(with408, accepted.length, 'each accepted one with a 408 Request Timeout')
  const lastClosed = Math.max(...accepted.map(s => s.closedAt ?? Infinity)) - openedFrom
  t.ok(lastClosed < (REQUEST_TIMEOUT_S + 10) * 1000 + openedMs, `the last one closed ${(lastClosed / 1000).toFixed(1)} s after the first opened`)
  const bad = sent.filter(failed)
  t.equal(bad.length, 0, `/mutate answered all ${sent.length} reviews sent meanwhile`)

  const again = await kept.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: BODY })
  await again.body.text()
  t.equal(again.statusCode, 200)
  t.equal(keptConnects, 1, 'the idle kept-alive connection outlived both timeouts and was reused')
  const fresh = new Pool(origin, { connections: 1, connect: { rejectUnauthorized: false } })
  t.teardown(() => fresh.destroy())
  const afterwards = await fresh.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: BODY })
  await afterwards.body.text()
  t.equal(afterwards.statusCode, 200, 'a new connection is accepted again once the slow ones are gone')
  const peak = Math.max(...rss)
  t.ok(peak < limit, `RSS peaked at ${(peak / MB).toFixed(0)} MB over the whole run, under the limit`)
  await report('slowClients', { slowClients: CLIENTS, slowClientsAccepted: accepted.length, slowClientsOpenedSeconds: Math.round(openedMs / 100) / 10, slowClientsRssMbPeak: Math.round(peak / MB), slowClientsLastClosedSeconds: Math.round(lastClosed / 100) / 10, slowClientsMutateSent: sent.length, slowClientsMutateFailed: bad.length })
})
