/**
 * The demo's sample app: a typical Node HTTP service, one container per Pod, run by the Node of
 * lameduck's own image (`node sample-app.ts`: Node 24 runs it without a build, since its types are
 * only annotations), mounted from a ConfigMap (workloads.ts). Each request does a little work (a few
 * ms of waiting, as for a database, and a hash) and answers JSON with the Pod's name. On SIGTERM it
 * does what a well-behaved app does: it stops accepting connections, finishes the requests in flight
 * (answering them with `Connection: close`), closes idle keep-alive connections, and exits 0. What it
 * cannot know is that a load balancer may still send it new connections after that: that is the gap
 * lameduck's preStop pause covers. `/slow?ms=N` waits N ms (at most a minute) before answering: a
 * slow request, for the demo's nginx scenario.
 *
 *   POD_NAME=web-abc12 PORT=8080 node sample-app.ts
 */
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

const port = Number(process.env.PORT ?? '8080')
const name = process.env.POD_NAME ?? hostname()
const log = (msg: string): void => { console.log(`${new Date().toISOString()} ${name} ${msg}`) }

/** The wait `/slow?ms=N` asks for, or undefined for any other path. */
function slowMs (url: string | undefined): number | undefined {
  const parsed = new URL(url ?? '/', 'http://app')
  if (parsed.pathname !== '/slow') return undefined
  const ms = Number(parsed.searchParams.get('ms') ?? '3000')
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : 3000
}

let closing = false
let inFlight = 0
const payload = Buffer.alloc(4096, name)

const server = createServer((req, res) => {
  inFlight++
  void (async () => {
    await sleep(slowMs(req.url) ?? 2 + Math.random() * 8)
    const digest = createHash('sha256').update(payload).update(String(Date.now())).digest('hex').slice(0, 12)
    // While shutting down, ask the client not to reuse this connection.
    if (closing) res.setHeader('connection', 'close')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ pod: name, path: req.url, digest }))
    inFlight--
  })()
})
// Above nginx's keep-alive to the backends, so nginx closes idle connections first.
server.keepAliveTimeout = 65_000

process.on('SIGTERM', () => {
  closing = true
  log(`SIGTERM: stop accepting, finish ${inFlight} request(s) in flight, then exit`)
  server.close(() => {
    log('drained; exiting 0')
    process.exit(0)
  })
  server.closeIdleConnections()
})

server.listen(port, '0.0.0.0', () => { log(`listening on :${port}`) })
