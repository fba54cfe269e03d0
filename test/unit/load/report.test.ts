import t from 'tap'
import fc from 'fast-check'
import type { LoadResult } from '../../../src/load/run.js'
import {
  buildTimeline, formatMs, formatReport, parseJsonReport, percentile, summarizeLatencies, toJsonReport, type JsonReport
} from '../../../src/load/report.js'

/** A result as runLoad builds it, from one `[label, latencyMs]` per request in schedule order. */
function makeResult (requests: Array<[string, number]>, extra: Partial<LoadResult> = {}): LoadResult {
  const outcomes: LoadResult['outcomes'] = []
  const outcome = new Uint16Array(requests.length)
  requests.forEach(([label], i) => {
    let index = outcomes.findIndex(o => o.label === label)
    if (index < 0) index = outcomes.push({ label, ok: /^[23]\d\d$/.test(label) }) - 1
    outcome[i] = index
  })
  return {
    url: 'http://127.0.0.1:8080/', rate: 100, durationMs: requests.length * 10, elapsedMs: requests.length * 10 + 5,
    aborted: false, count: requests.length, latencyMs: Float32Array.from(requests.map(([, ms]) => ms)), outcome,
    outcomes, errorCodes: {}, bytesIn: 0, ...extra
  }
}

/** 30 requests at 100 rps: one 503, two resets and a 302 in the second 100 ms. */
const mixed = makeResult(Array.from({ length: 30 }, (_, i): [string, number] =>
  [({ 12: '503', 13: 'reset', 14: 'reset', 20: '302' } as Record<number, string>)[i] ?? '200', i + 1]),
{ errorCodes: { UND_ERR_SOCKET: 1, ECONNRESET: 1 }, bytesIn: 60, elapsedMs: 400 })

t.test('percentiles are by nearest rank', async t => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
  for (const p of [1, 50, 90, 95, 99, 100]) t.equal(percentile(sorted, p), p, `p${p} of 1..100`)
  t.equal(percentile([1, 2, 3], 50), 2)
  t.equal(percentile([1, 2, 3, 4], 50), 2, 'no interpolation')
  t.equal(percentile([7], 0.1), 7)
  t.equal(percentile([], 50), 0)
})

t.test('summarizes latencies without reordering the input', async t => {
  const shuffled = Float32Array.from(Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1))
  const before = Array.from(shuffled)
  t.same(summarizeLatencies(shuffled), { min: 1, mean: 50.5, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 })
  t.same(Array.from(shuffled), before)
  t.same(summarizeLatencies(new Float32Array(0)), { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 })
  t.equal(summarizeLatencies(Float32Array.of(0.1)).min, 0.1, 'rounded to the µs, not left as a float32')
})

t.test('counts successes, failures and statuses', async t => {
  const r = toJsonReport(mixed)
  t.equal(r.requests, 30)
  t.equal(r.succeeded, 27, '2xx and 3xx succeed')
  t.equal(r.failed, 3)
  t.equal(r.successRatio, 27 / 30)
  t.equal(r.throughput, 27 * 1000 / 400, 'successes per second of elapsed time')
  t.same(r.statuses, { 200: 26, 302: 1, 503: 1, reset: 2 })
  t.same(Object.keys(r.errors), ['ECONNRESET', 'UND_ERR_SOCKET'], 'sorted by name')
  t.equal(r.bucketMs, 100)
})

t.test('the timeline buckets requests by when they were due', async t => {
  const timeline = toJsonReport(mixed).timeline
  t.same(timeline.map(b => b.t), [0, 100, 200])
  t.same(timeline.map(b => b.requests), [10, 10, 10])
  t.same(timeline.map(b => b.failed), [0, 3, 0])
  t.same(timeline[1]!.statuses, { 200: 7, 503: 1, reset: 2 })
  t.same(timeline[2]!.statuses, { 200: 9, 302: 1 })
})

t.test('a slow rate leaves empty buckets in place, so index × bucketMs is t', async t => {
  const slow = makeResult(Array.from({ length: 6 }, (): [string, number] => ['200', 1]), { rate: 2, durationMs: 3000 })
  const timeline = buildTimeline(slow)
  t.equal(timeline.length, 30)
  t.same(timeline.flatMap((b, i) => b.requests > 0 ? [i] : []), [0, 5, 10, 15, 20, 25])
  t.equal(buildTimeline(slow, 1000).length, 3)
})

t.test('an empty run has a zero success ratio, so it never passes a check', async t => {
  const r = toJsonReport(makeResult([], { aborted: true, elapsedMs: 0 }))
  t.equal(r.successRatio, 0)
  t.equal(r.throughput, 0)
  t.same(r.timeline, [])
  t.match(formatReport(r), /Aborted\s+yes/)
})

t.test('prints a vegeta-style text report, the same from a result or its JSON report', async t => {
  const text = formatReport(mixed)
  t.match(text, /^Requests {6}\[total, rate, throughput\]\s+30, 100\.00, 67\.50$/m)
  t.match(text, /^Duration .*\s400\.00ms, 300\.00ms, 100\.00ms$/m)
  t.match(text, /^Latencies .*\s1\.00ms, 15\.50ms, 15\.00ms, 27\.00ms, 29\.00ms, 30\.00ms, 30\.00ms$/m)
  t.match(text, /^Success .*\s90\.00%$/m)
  t.match(text, /^Status Codes .*\s200:26 302:1 503:1 reset:2$/m)
  t.match(text, /^Error Codes .*\sECONNRESET:1 UND_ERR_SOCKET:1$/m)
  t.notMatch(text, /Aborted/)
  t.equal(formatReport(toJsonReport(mixed)), text)
})

t.test('formats durations in the unit that reads best', async t => {
  t.equal(formatMs(0.5), '500µs')
  t.equal(formatMs(12.3456), '12.35ms')
  t.equal(formatMs(1234), '1.234s')
})

t.test('every report adds up and reads back as it was written', async t => {
  const label = fc.constantFrom('200', '204', '301', '404', '502', '503', 'reset', 'refused', 'timeout', 'other')
  const requests = fc.array(fc.tuple(label, fc.float({ min: 0, max: 10_000, noNaN: true })), { maxLength: 300 })
  fc.assert(fc.property(requests, fc.integer({ min: 1, max: 1000 }), (reqs, rate) => {
    const r = toJsonReport(makeResult(reqs, { rate, durationMs: reqs.length * 1000 / rate }))
    const sum = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0)
    t.equal(sum(r.statuses), reqs.length)
    t.equal(r.timeline.reduce((a, b) => a + b.requests, 0), reqs.length)
    t.equal(r.timeline.reduce((a, b) => a + b.failed, 0), r.failed)
    t.ok(r.latencyMs.min <= r.latencyMs.p50 && r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max)
    t.same(parseJsonReport(JSON.stringify(r)), r)
  }), { numRuns: 50 })
})

t.test('rejects anything but a whole, consistent report, saying what is wrong', async t => {
  const good = toJsonReport(mixed)
  const broken: Array<[string, (r: Record<string, unknown> & JsonReport) => void, RegExp]> = [
    ['url', r => { r.url = 1 as unknown as string }, /url is not a string/],
    ['aborted', r => { r.aborted = 'no' as unknown as boolean }, /aborted is not true or false/],
    ['requests', r => { r.requests = 31 }, /succeeded \+ failed is not requests/],
    ['failed', r => { r.failed = -1 }, /failed is not a count/],
    ['fractional count', r => { r.bytesIn = 1.5 }, /bytesIn is not a count/],
    ['ratio', r => { r.successRatio = 1.5 }, /successRatio is above 1/],
    ['negative', r => { r.elapsedMs = -1 }, /elapsedMs is not a number/],
    ['infinite', r => { r.durationMs = Infinity }, /durationMs is not a number/],
    ['rate', r => { r.rate = 0 }, /rate is 0/],
    ['latency missing', r => { delete (r as Record<string, unknown>).latencyMs }, /latencyMs is not an object/],
    ['latency field', r => { r.latencyMs = { ...r.latencyMs, p99: 'x' as unknown as number } }, /latencyMs\.p99 is not a number/],
    ['statuses', r => { r.statuses = { 200: 29 } }, /statuses do not add up/],
    ['statuses list', r => { r.statuses = [] as unknown as Record<string, number> }, /statuses is not an object/],
    ['errors', r => { r.errors = { X: 'y' as unknown as number } }, /errors\.X is not a count/],
    ['bucketMs', r => { r.bucketMs = 0 }, /bucketMs is 0/],
    ['timeline', r => { r.timeline = {} as unknown as JsonReport['timeline'] }, /timeline is not a list/],
    ['timeline sum', r => { r.timeline = r.timeline.slice(1) }, /timeline does not add up/],
    ['bucket', r => { r.timeline[0] = null as unknown as JsonReport['timeline'][0] }, /timeline\[0\] is not an object/],
    ['bucket failed', r => { r.timeline[1]!.failed = 11 }, /timeline\[1\]\.failed is above/],
    ['bucket statuses', r => { r.timeline[2]!.statuses = { 200: 9 } }, /timeline\[2\]\.statuses do not add up/]
  ]
  for (const [name, breakIt, message] of broken) {
    const copy = JSON.parse(JSON.stringify(good)) as Record<string, unknown> & JsonReport
    breakIt(copy)
    t.throws(() => parseJsonReport(JSON.stringify(copy)), { message }, name)
  }
  t.throws(() => parseJsonReport('Requests [total] 30'), { message: /not a lameduck load report: not JSON/ })
  t.throws(() => parseJsonReport(JSON.stringify(good).slice(0, 200)), { message: /not JSON/ }, 'a truncated log line')
  t.throws(() => parseJsonReport('[]'), { message: /the report is not an object/ })
  t.same(parseJsonReport(JSON.stringify({ ...good, extra: 1 })).requests, 30, 'extra fields are fine')
})

t.test('with identify: the start and each replica\'s answers, in the JSON and the text, checked when read back', async t => {
  const r = toJsonReport(makeResult([['200', 1], ['200', 1], ['503', 1]], { startedAt: 1_700_000_000_000, replicas: { 'web-a': { first: 5, last: 15, answers: 2 } } }))
  t.equal(r.startedAt, 1_700_000_000_000)
  t.same(r.replicas, { 'web-a': { first: 5, last: 15, answers: 2 } })
  t.same(parseJsonReport(JSON.stringify(r)), r)
  t.match(formatReport(r), /Replicas\s+\[name:answers\]\s+web-a:2\n/)
  t.equal(toJsonReport(makeResult([['200', 1]])).replicas, undefined, 'absent without identify')
  const broken: Array<[Partial<JsonReport>, RegExp]> = [
    [{ startedAt: -1 }, /startedAt is not a number/],
    [{ replicas: [] as unknown as JsonReport['replicas'] }, /replicas is not an object/],
    [{ replicas: { a: { first: 9, last: 1, answers: 1 } } }, /replicas\.a\.first is after its last/],
    [{ replicas: { a: { first: 1, last: 1, answers: 0.5 } } }, /replicas\.a\.answers is not a count/],
    [{ replicas: { a: { first: 1, last: 1, answers: 3 } } }, /replicas answered more requests than succeeded/]
  ]
  for (const [change, message] of broken)
    t.throws(() => parseJsonReport(JSON.stringify({ ...r, ...change })), { message }, message.source)
})

t.test('the generator\'s own lag: the largest, the share sent late, the stall, per bucket; read back and printed', async t => {
  // 30 requests at 100 rps: the second 100 ms went out 40 to 130 ms late, one request 250 ms late.
  const handOffMs = Uint16Array.from({ length: 30 }, (_, i) =>
    i >= 10 && i < 20 ? 40 + (i - 10) * 10 : i === 25 ? 250 : 1)
  const thirty = Array.from({ length: 30 }, (): [string, number] => ['200', 1])
  const r = toJsonReport(makeResult(thirty, { lag: { handOffMs, maxMs: 250.4, maxStallMs: 180.25 } }))
  t.equal(r.maxLagMs, 250.4)
  t.equal(r.lateShare, 4 / 30, 'over 100 ms: 110, 120, 130 and 250')
  t.equal(r.maxStallMs, 180.25)
  t.same(r.timeline.map(b => b.lagMs), [1, 130, 250], 'the largest of each bucket')
  t.same(parseJsonReport(JSON.stringify(r)), r)
  t.match(formatReport(r), /^Lag {11}\[max, sent late, longest stall\]\s+250\.40ms, 13\.33% over 100ms, 180\.25ms$/m)
  const plain = toJsonReport(makeResult([['200', 1]]))
  t.equal(plain.maxLagMs, undefined, 'absent from a result without lag figures (a report from an older writer)')
  t.equal(plain.timeline[0]!.lagMs, undefined)
  t.notMatch(formatReport(plain), /Lag/)
  const none = toJsonReport(makeResult([], { lag: { handOffMs: new Uint16Array(0), maxMs: 0, maxStallMs: 0 } }))
  t.equal(none.lateShare, 0, 'nothing sent: none late')
  const broken: Array<[Partial<JsonReport>, RegExp]> = [
    [{ maxLagMs: -1 }, /maxLagMs is not a number/],
    [{ maxStallMs: Number.NaN }, /maxStallMs is not a number/],
    [{ lateShare: 1.5 }, /lateShare is above 1/],
    [{ maxStallMs: undefined }, /maxLagMs, lateShare, maxStallMs go together/],
    [{ timeline: r.timeline.map((b, i) => i === 1 ? { ...b, lagMs: -3 } : b) }, /timeline\[1\]\.lagMs is not a number/]
  ]
  for (const [change, message] of broken) {
    t.throws(() => parseJsonReport(JSON.stringify({ ...r, ...change })), { message }, message.source)
  }
})
