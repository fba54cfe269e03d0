import t from 'tap'
import type { JsonReport } from '../../../src/load/report.js'
import { countRetried, median, summarizeRun, type RunEvent } from '../../../demo/summary.js'

/** A report with just what the summary reads; the rest as the load generator would fill it. */
function report (statuses: Record<string, number>, p99 = 12.5, lags?: number[]): JsonReport {
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0)
  const succeeded = Object.entries(statuses).filter(([k]) => /^[23]\d\d$/.test(k)).reduce((a, [, n]) => a + n, 0)
  return {
    url: 'http://127.0.0.1:1/',
    requests,
    succeeded,
    failed: requests - succeeded,
    successRatio: succeeded / requests,
    rate: 100,
    throughput: 100,
    durationMs: 1000,
    elapsedMs: 1000,
    aborted: true,
    bytesIn: 0,
    latencyMs: { min: 1, mean: 2, p50: 2, p90: 5, p95: 8, p99, max: 30 },
    statuses,
    errors: {},
    bucketMs: 100,
    timeline: (lags ?? []).map((lagMs, i) => ({ t: i * 100, requests: 0, failed: 0, statuses: {}, lagMs })),
    startedAt: 1_000_000,
    ...(lags === undefined ? {} : { maxLagMs: Math.max(...lags), lateShare: 0, maxStallMs: 0 })
  }
}

const log = [
  '1795480078.074 200 "127.0.0.1:8081" "200" 0.004',
  '1795480078.080 502 "127.0.0.1:8082" "502" 0.001',
  '1795480078.091 200 "127.0.0.1:8082, 127.0.0.1:8083" "502, 200" 0.006',
  '1795480078.095 200 "127.0.0.1:8082, 127.0.0.1:8081, 127.0.0.1:8083" "502, 502, 200" 0.009',
  '',
  'garbage, with a comma'
].join('\n')

t.test('a request nginx sent to more than one backend counts as retried', async t => {
  t.equal(countRetried(log), 2)
  t.equal(countRetried(''), 0)
})

t.test('the summary splits the failures by kind and keeps the events in time order', async t => {
  const events: RunEvent[] = [{ tMs: 900, kind: 'sigterm', pod: 'a' }, { tMs: 300, kind: 'endpoint-removed', pod: 'a' }, { tMs: 31_000, kind: 'sigkill', pod: 'b' }]
  const summary = summarizeRun(
    report({ 200: 90, 502: 3, 503: 1, 404: 1, reset: 2, refused: 1, timeout: 1, other: 1 }, 99.9),
    log,
    events
  )
  t.same(summary, {
    requests: 100, failed: 10, '5xx': 4, resets: 2, refused: 1, timeouts: 1, p99Ms: 99.9, retried: 2,
    statuses: { 200: 90, 502: 3, 503: 1, 404: 1, reset: 2, refused: 1, timeout: 1, other: 1 },
    events: [events[1], events[0], events[2]], loadLagMs: null
  })
  t.equal(events[0]!.tMs, 900, 'the events given are left as they were')
})

t.test('a clean run', async t => {
  const summary = summarizeRun(report({ 200: 1000 }), '', [])
  t.same([summary.failed, summary['5xx'], summary.resets, summary.retried], [0, 0, 0, 0])
})

t.test('slow requests count in the totals and the statuses, and on their own as slow; the p99 is the load\'s', async t => {
  const summary = summarizeRun(report({ 200: 990, 502: 10 }, 9), '', [], report({ 200: 15, reset: 5 }, 8000))
  t.equal(summary.requests, 1020)
  t.equal(summary.failed, 15)
  t.same(summary.slow, { requests: 20, failed: 5 })
  t.same(summary.statuses, { 200: 1005, 502: 10, reset: 5 })
  t.equal(summary.resets, 5)
  t.equal(summary.p99Ms, 9)
  t.notOk('slow' in summarizeRun(report({ 200: 1 }), '', []), 'no slow field without slow requests')
})

t.test('the loads\' lag while the Pods were stopped; over a second, no verdict and why', async t => {
  // 100 ms buckets from 1,000,000 ms: the load fell 3 s behind at 300 ms, then caught up.
  const lagged = report({ 200: 100 }, 9, [2, 5, 8, 3000, 4, 6])
  t.equal(summarizeRun(lagged, '', []).loadLagMs, 3000, 'without the disruption\'s moments: the whole run')
  const during = summarizeRun(lagged, '', [], undefined, { fromAt: 1_000_250, toAt: 1_000_350 })
  t.equal(during.loadLagMs, 3000)
  t.match(during.noVerdict,
    /^the load generator fell behind its schedule by up to 3\.000s .* Run it again with a machine less busy or a rate below 100 requests\/s$/)
  const after = summarizeRun(lagged, '', [], undefined, { fromAt: 1_000_400, toAt: 1_000_600 })
  t.equal(after.loadLagMs, 6, 'a lag before the Pods were stopped does not count')
  t.notOk('noVerdict' in after, 'judged')
  const slowReport = report({ 200: 2 }, 9, [0, 1500, 0])
  const window = { fromAt: 1_000_000, toAt: 1_000_300 }
  const slowLagged = summarizeRun(report({ 200: 10 }, 9, [1, 1, 1]), '', [], slowReport, window)
  t.equal(slowLagged.loadLagMs, 1500, 'the slow requests\' load counts too')
  t.ok(slowLagged.noVerdict)
  const olderMain = summarizeRun(report({ 200: 1 }), '', [], report({ 200: 1 }, 9, [20]))
  t.equal(olderMain.loadLagMs, 20, 'a report without figures says nothing')
})

t.test('median: the middle value, the mean of the two middle ones, 0 for none', async t => {
  t.equal(median([5000, 1000, 3000]), 3000)
  t.equal(median([4000, 1000, 3000, 2000]), 2500)
  t.equal(median([]), 0)
})
