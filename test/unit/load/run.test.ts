import t, { type Test } from 'tap'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { classifyError, MAX_REQUESTS, runLoad, type LoadProgress, type LoadResult } from '../../../src/load/run.js'

/** A loopback server whose handler sees each request's 0-based arrival number; closed at teardown. */
async function serve (
  t: Test,
  handle: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void
): Promise<{ url: string, hits: () => number, arrivals: number[] }> {
  const arrivals: number[] = []
  const server = http.createServer((req, res) => {
    arrivals.push(performance.now())
    handle(arrivals.length - 1, req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => arrivals.length, arrivals }
}

/** `{ label: count }` over every request of a result. */
function tally (result: LoadResult): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const index of result.outcome) {
    const { label } = result.outcomes[index]!
    counts[label] = (counts[label] ?? 0) + 1
  }
  return counts
}

t.test('sends rate × duration requests, spread over the duration, to the path asked', async t => {
  const paths = new Set<string>()
  const server = await serve(t, (_, req, res) => { paths.add(req.url!); res.end('hello') })
  const progress: LoadProgress[] = []
  const result = await runLoad({ url: `${server.url}/ping?x=1`, rate: 200, durationMs: 1000, onProgress: p => progress.push(p), progressIntervalMs: 100 })
  t.equal(result.count, 200, 'request i due at i × 5 ms for i < 200')
  t.equal(server.hits(), 200)
  t.same(tally(result), { 200: 200 })
  t.same([...paths], ['/ping?x=1'])
  t.equal(result.bytesIn, 200 * 5)
  t.equal(result.aborted, false)
  t.equal(result.durationMs, 1000)
  t.ok(result.elapsedMs >= 995, 'the last request was not due before 995 ms')
  t.ok(server.arrivals.at(-1)! - server.arrivals[0]! >= 800, 'not all sent at once')
  t.ok(progress.length >= 2)
  t.same(progress.at(-1), { sent: 200, done: 200, failed: 0 })
  t.ok(progress.every((p, i) => i === 0 || p.sent >= progress[i - 1]!.sent), 'progress never goes back')
})

t.test('keep-alive reuses a few connections; keepAlive false opens one per request', async t => {
  for (const keepAlive of [true, false]) {
    const sockets = new Set<unknown>()
    const headers: Array<string | undefined> = []
    const server = await serve(t, (_, req, res) => { sockets.add(req.socket); headers.push(req.headers.connection); res.end('ok') })
    const result = await runLoad({ url: server.url, rate: 100, durationMs: 300, connections: 4, keepAlive })
    t.same(tally(result), { 200: 30 }, `keepAlive ${keepAlive}: every request answered`)
    if (keepAlive) t.ok(sockets.size <= 4, `${sockets.size} connections for 30 requests`)
    else {
      t.equal(sockets.size, 30, 'a new connection for each request')
      t.same(new Set(headers), new Set(['close']), 'each one asks the server to close')
    }
  }
})

t.test('2xx and 3xx succeed; 4xx and 5xx fail, under their status', async t => {
  const server = await serve(t, (n, _, res) => {
    res.writeHead([503, 302, 404, 200][n % 4]!, { location: '/' }).end()
  })
  const progress: LoadProgress[] = []
  const result = await runLoad({ url: server.url, rate: 100, durationMs: 400, onProgress: p => progress.push(p) })
  t.same(tally(result), { 200: 10, 302: 10, 404: 10, 503: 10 })
  t.same(result.outcomes.filter(o => o.ok).map(o => o.label).sort(), ['200', '302'])
  t.same(progress.at(-1), { sent: 40, done: 40, failed: 20 })
  t.equal(server.hits(), 40, 'redirects are not followed')
})

t.test('a socket the server destroys is a reset, never retried', async t => {
  const server = await serve(t, (n, req, res) => {
    if (n % 5 === 0) req.socket.destroy()
    else if (n % 5 === 1) {
      // Half a body, then gone: the headers said 200, but no whole answer came back.
      res.writeHead(200, { 'content-length': 100 }).write('partial')
      setImmediate(() => req.socket.destroy())
    } else res.end('ok')
  })
  const result = await runLoad({ url: server.url, rate: 100, durationMs: 500 })
  t.same(tally(result), { 200: 30, reset: 20 })
  t.equal(server.hits(), 50, 'one arrival per request: no retries')
  t.equal(Object.values(result.errorCodes).reduce((a, b) => a + b, 0), 20)
  t.ok(Object.keys(result.errorCodes).every(code => ['UND_ERR_SOCKET', 'ECONNRESET'].includes(code)), Object.keys(result.errorCodes).join())
})

t.test('nothing listening is refused', async t => {
  const closed = net.createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise(resolve => closed.close(resolve))
  const result = await runLoad({ url: `http://127.0.0.1:${port}/`, rate: 20, durationMs: 500 })
  t.same(tally(result), { refused: 10 })
  t.same(result.errorCodes, { ECONNREFUSED: 10 })
})

t.test('no answer, or a body that stalls, within the timeout is a timeout', async t => {
  const server = await serve(t, (n, _, res) => {
    if (n % 4 === 1) res.writeHead(200, { 'content-length': 100 }).write('stalls')
    else if (n % 4 !== 0) res.end('ok')
  })
  const result = await runLoad({ url: server.url, rate: 40, durationMs: 500, timeoutMs: 200 })
  t.same(tally(result), { 200: 10, timeout: 10 })
  t.same(result.errorCodes, { REQUEST_TIMEOUT: 10 })
  t.ok(result.latencyMs.every(ms => ms < 5000), 'nothing waited past the timeout by far')
})

t.test('open model: a stalled server does not hold back the schedule, and queueing counts as latency', async t => {
  const server = await serve(t, (n, _, res) => {
    if (n < 2) setTimeout(() => res.end('late'), 500)
    else res.end('ok')
  })
  // Two connections, both held 500 ms by the first two requests: a closed model would send ~50 fewer.
  const result = await runLoad({ url: server.url, rate: 100, durationMs: 1000, connections: 2 })
  t.equal(result.count, 100)
  t.equal(server.hits(), 100)
  t.same(tally(result), { 200: 100 })
  const queued = Array.from(result.latencyMs.subarray(2, 20)).filter(ms => ms >= 300)
  t.ok(queued.length >= 10, `requests due while both connections stalled waited, and it shows: ${queued.length}`)
})

t.test('an answer that is not HTTP is other, with its code', async t => {
  const garbage = net.createServer(socket => socket.once('data', () => socket.end('garbage\r\n\r\n')))
  await new Promise<void>(resolve => garbage.listen(0, '127.0.0.1', resolve))
  t.teardown(() => garbage.close())
  const result = await runLoad({ url: `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`, rate: 20, durationMs: 200 })
  t.same(tally(result), { other: 4 })
  t.same(Object.keys(result.errorCodes), ['HTTPParserError'])
})

t.test('aborting stops the schedule and reports what was sent', async t => {
  const server = await serve(t, (_, __, res) => res.end('ok'))
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  const result = await runLoad({ url: server.url, rate: 50, durationMs: 60_000, signal: controller.signal })
  t.equal(result.aborted, true)
  t.ok(result.count > 0 && result.count < 3000, `${result.count} sent`)
  t.equal(server.hits(), result.count)
  t.same(tally(result), { 200: result.count })
  t.equal(result.durationMs, result.count * 1000 / 50)
  const never = await runLoad({ url: server.url, rate: 50, durationMs: 1000, signal: AbortSignal.abort() })
  t.equal(never.count, 0)
  t.equal(never.aborted, true)
})

t.test('bad options are rejected with a clear message', async t => {
  const ok = { url: 'http://127.0.0.1:1/', rate: 10, durationMs: 1000 }
  const bad: Array<[object, RegExp]> = [
    [{ url: 'not a url' }, /url must be an http or https URL, got "not a url"/],
    [{ url: 'ftp://127.0.0.1/' }, /url must be an http or https URL/],
    [{ rate: 0 }, /rate must be .* above 0, got 0/],
    [{ rate: -1 }, /rate must be/],
    [{ rate: NaN }, /rate must be/],
    [{ rate: Infinity }, /rate must be/],
    [{ durationMs: 0 }, /duration must be above 0/],
    [{ connections: 0 }, /connections must be a whole number of at least 1, got 0/],
    [{ connections: 1.5 }, /connections must be/],
    [{ timeoutMs: 0 }, /timeout must be above 0/],
    [{ rate: 100_000, durationMs: 3_600_000 }, new RegExp(`more than ${MAX_REQUESTS} requests`)]
  ]
  for (const [change, message] of bad)
    await t.rejects(runLoad({ ...ok, ...change }), { message }, JSON.stringify(change))
})

t.test('classifies errors by their code, wherever it hides', async t => {
  const cases: Array<[unknown, string, string]> = [
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'reset', 'ECONNRESET'],
    [Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }), 'reset', 'UND_ERR_SOCKET'],
    [new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), 'refused', 'ECONNREFUSED'],
    [new Error('x', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }), 'timeout', 'UND_ERR_HEADERS_TIMEOUT'],
    [Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), 'timeout', 'UND_ERR_CONNECT_TIMEOUT'],
    [new TypeError('x'), 'other', 'TypeError'],
    [{}, 'other', 'unknown'],
    ['a string', 'other', 'unknown'],
    [null, 'other', 'unknown']
  ]
  for (const [err, kind, code] of cases) t.same(classifyError(err), { kind, code }, `${kind} ${code}`)
})

t.test('with identify: each replica\'s first and last answer and its count, from successful answers only', async t => {
  const server = await serve(t, (n, _, res) => {
    if (n % 4 === 3) { res.statusCode = 503; res.end('{"pod":"web-b"}'); return }
    res.setHeader('x-pod', n % 2 === 0 ? 'web-a' : 'web-b')
    res.end(JSON.stringify({ pod: n % 2 === 0 ? 'web-a' : 'web-b' }))
  })
  const before = Date.now()
  const json = await runLoad({ url: server.url, rate: 100, durationMs: 200, identify: { kind: 'json', path: ['pod'] } })
  t.ok(json.startedAt! >= before - 50 && json.startedAt! <= Date.now(), 'the wall-clock start')
  t.same(Object.keys(json.replicas!).sort(), ['web-a', 'web-b'])
  t.equal(json.replicas!['web-a']!.answers, 10)
  t.equal(json.replicas!['web-b']!.answers, 5, 'a 503 says nothing about routing to a replica that serves')
  for (const seen of Object.values(json.replicas!)) t.ok(seen.first <= seen.last && seen.last <= json.elapsedMs)
  t.ok(json.replicas!['web-a']!.last > 150, 'the last answer is late in the run')
  const header = await runLoad({ url: server.url, rate: 100, durationMs: 100, identify: { kind: 'header', name: 'x-pod' } })
  t.same(Object.keys(header.replicas!).sort(), ['web-a', 'web-b'])
  const plain = await runLoad({ url: server.url, rate: 100, durationMs: 50 })
  t.equal(plain.replicas, undefined, 'nothing without identify')
})

t.test('measures its own lag: a blocked event loop sends its backlog late, and it shows per request and as a stall', async t => {
  const server = await serve(t, (_, __, res) => res.end('ok'))
  // At 100 rps for 1 s, the process is busy for 400 ms from 300 ms on: the ~40 requests due then go out together, late.
  setTimeout(() => { const until = performance.now() + 400; while (performance.now() < until); }, 300)
  const result = await runLoad({ url: server.url, rate: 100, durationMs: 1000 })
  const lag = result.lag!
  t.equal(lag.handOffMs.length, 100, 'one hand-off delay per request')
  t.ok(lag.maxMs >= 350 && lag.maxMs < 1000, `the first one due in the stall went out ~400 ms late: ${lag.maxMs} ms`)
  t.equal(Math.max(...lag.handOffMs), Math.round(lag.maxMs), 'the largest per-request delay is the max')
  const late = Array.from(lag.handOffMs).filter(ms => ms > 100).length
  t.ok(late >= 25 && late <= 45, `about the ~40 due in the stall were sent more than 100 ms late: ${late}`)
  t.ok(lag.maxStallMs >= 350, `the event loop stalled for ~400 ms: ${lag.maxStallMs} ms`)
  t.same(tally(result), { 200: 100 }, 'and yet every request succeeded: only the generator was slow')
})
