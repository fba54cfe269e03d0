// Slow clients: 3,000 TLS connections that never finish a request (a third send nothing, a third
// stop in the middle of their headers, a third in the middle of their body), held open against the
// real `lameduck serve`, compiled, run with the shipped Deployment's NODE_OPTIONS. While they are open its RSS
// must stay under the Deployment's memory limit and /mutate must keep answering; then every one of
// them must get its 408 and be closed by the server's --headers-timeout and --request-timeout. An
// idle kept-alive connection, like the ones the API server pools, must outlive both timeouts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { connect, type TLSSocket } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { deploymentMemoryLimit, rssBytes, compiledEntry, startServeProcess } from '../helpers/serve-process.js'
import { failed, startSteadyLoad } from '../helpers/steady-load.js'
import { report, scaled } from '../helpers/reliability.js'

const BODY = readFileSync(new URL('../../bench/fixtures/deployment-pod-review.json', import.meta.url), 'utf8')
const CLIENTS = scaled(3000, 6000)
const HEADERS_TIMEOUT_S = 20
const REQUEST_TIMEOUT_S = 25
const MB = 1024 * 1024

/** What a slow client sends before it stalls. */
const STALLS = ['', 'POST /mutate HTTP/1.1\r\nHost: lameduck\r\ncontent-type: application/json\r\n', `POST /mutate HTTP/1.1\r\nHost: lameduck\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY.slice(0, 1000)}`]

interface Slow { socket: TLSSocket, answer: string, closedAt?: number }

/** Opens one slow client; resolves once its handshake is done and its part is written. */
function openSlow (port: number, text: string): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const slow: Slow = { socket: connect({ host: '127.0.0.1', port, rejectUnauthorized: false }), answer: '' }
    slow.socket.on('data', chunk => { slow.answer += String(chunk) })
    slow.socket.on('close', () => { slow.closedAt = performance.now() })
    slow.socket.once('secureConnect', () => { if (text !== '') slow.socket.write(text); resolve(slow) })
    slow.socket.on('error', err => { if (slow.socket.readyState === 'opening') reject(err) })
  })
}

t.test(`${CLIENTS} slow clients: RSS under the Deployment's limit, /mutate answering, every one timed out with a 408`, async t => {
  t.setTimeout(600_000)
  const limit = await deploymentMemoryLimit()
  const webhook = await startServeProcess({ entry: await compiledEntry(), args: ['--self-signed', '--namespaces-file', 'examples/namespaces.yaml', '--log-level', 'warn', '--headers-timeout', `${HEADERS_TIMEOUT_S}s`, '--request-timeout', `${REQUEST_TIMEOUT_S}s`], bare: true })
  t.teardown(() => webhook.stop(1000))
  const origin = `https://127.0.0.1:${webhook.port}`
  const rss: number[] = []
  const sampler = setInterval(() => { void rssBytes(webhook.pid).then(b => rss.push(b), () => {}) }, 250)
  t.teardown(() => { clearInterval(sampler) })

  // A kept-alive connection used once, then idle through both timeouts, as the API server's pool keeps them.
  const kept = new Pool(origin, { connections: 1, connect: { rejectUnauthorized: false }, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000 })
  t.teardown(() => kept.destroy())
  let keptConnects = 0
  kept.on('connect', () => { keptConnects++ })
  await (await kept.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: BODY })).body.text()

  const load = startSteadyLoad({ origin, body: BODY, rate: 20, tls: { rejectUnauthorized: false } })
  const openedFrom = performance.now()
  const slow: Slow[] = []
  for (let i = 0; i < CLIENTS; i += 100) {
    slow.push(...await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) => openSlow(webhook.port, STALLS[(i + j) % STALLS.length]!))))
  }
  const openedMs = performance.now() - openedFrom
  const openAtOnce = slow.filter(s => s.closedAt === undefined).length
  await sleep(3000) // all of them open at once, for a while
  const peakWhileOpen = Math.max(...rss)
  t.equal(openAtOnce, CLIENTS, `all ${CLIENTS} were open at once (opened in ${(openedMs / 1000).toFixed(1)} s)`)
  t.ok(peakWhileOpen < limit, `RSS ${(peakWhileOpen / MB).toFixed(0)} MB with them open, under the Deployment's ${limit / MB} MiB limit`)

  const deadline = performance.now() + (REQUEST_TIMEOUT_S + 30) * 1000
  while (slow.some(s => s.closedAt === undefined) && performance.now() < deadline) await sleep(500)
  const sent = await load.stop()
  const open = slow.filter(s => s.closedAt === undefined)
  t.equal(open.length, 0, 'the server closed every slow connection')
  const with408 = slow.filter(s => s.answer.startsWith('HTTP/1.1 408')).length
  t.equal(with408, CLIENTS, 'each with a 408 Request Timeout')
  const lastClosed = Math.max(...slow.map(s => s.closedAt ?? Infinity)) - openedFrom
  t.ok(lastClosed < (REQUEST_TIMEOUT_S + 10) * 1000 + openedMs, `the last one closed ${(lastClosed / 1000).toFixed(1)} s after the first opened`)
  const bad = sent.filter(failed)
  t.equal(bad.length, 0, `/mutate answered all ${sent.length} reviews sent meanwhile`)

  const again = await kept.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: BODY })
  await again.body.text()
  t.equal(again.statusCode, 200)
  t.equal(keptConnects, 1, 'the idle kept-alive connection outlived both timeouts and was reused')
  const peak = Math.max(...rss)
  t.ok(peak < limit, `RSS peaked at ${(peak / MB).toFixed(0)} MB over the whole run, under the limit`)
  await report('slowClients', { slowClients: CLIENTS, slowClientsOpenedSeconds: Math.round(openedMs / 100) / 10, slowClientsRssMbPeak: Math.round(peak / MB), slowClientsLastClosedSeconds: Math.round(lastClosed / 100) / 10, slowClientsMutateSent: sent.length, slowClientsMutateFailed: bad.length })
})
