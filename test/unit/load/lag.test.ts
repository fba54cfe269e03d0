import t from 'tap'
import { LAG_LIMIT_MS, lagDuring, laggedLine, windowOf } from '../../../src/load/lag.js'
import type { JsonReport } from '../../../src/load/report.js'

/** A report of 100 ms buckets with these largest hand-off delays, started at 1,000,000 ms. */
function report (lags: Array<number | undefined>, figures = true): JsonReport {
  return {
    url: 'http://web/', requests: 0, succeeded: 0, failed: 0, successRatio: 0, rate: 10, throughput: 0,
    durationMs: 0, elapsedMs: 0, aborted: false, bytesIn: 0,
    latencyMs: { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 }, statuses: {}, errors: {}, bucketMs: 100,
    timeline: lags.map((lagMs, i) =>
      ({ t: i * 100, requests: 0, failed: 0, statuses: {}, ...(lagMs === undefined ? {} : { lagMs }) })),
    startedAt: 1_000_000,
    ...(figures ? { maxLagMs: Math.max(0, ...lags.map(l => l ?? 0)) + 0.4, lateShare: 0, maxStallMs: 0 } : {})
  }
}

t.test('the lag of the requests due in a window: buckets that overlap it, ends included', async t => {
  const r = report([5, 3000, 7, 1200, 2, 9, 4])
  t.equal(lagDuring(r), 3000.4, 'the whole run without a window: the report\'s own max')
  t.equal(lagDuring(r, { fromMs: 200, toMs: 500 }), 1200, 'buckets 200 to 500')
  t.equal(lagDuring(r, { fromMs: 400, toMs: 500 }), 9, 'buckets 400 and 500')
  t.equal(lagDuring(r, { fromMs: 350, toMs: 350 }), 1200, 'a moment falls in its bucket')
  t.equal(lagDuring(r, { fromMs: 199.9, toMs: 250 }), 3000, 'a window that starts in a bucket takes it')
  t.equal(lagDuring(r, { fromMs: 700, toMs: 900 }), 0, 'after the run: nothing due')
  t.equal(lagDuring(report([1, undefined, 3]), { fromMs: 0, toMs: 300 }), 3, 'a bucket without a figure counts as none')
  t.equal(lagDuring(report([1, 2], false)), undefined, 'an older report has no lag figures: unknown, not zero')
  t.equal(lagDuring(report([1, 2], false), { fromMs: 0, toMs: 100 }), undefined)
})

t.test('a window from two wall-clock moments, on the load\'s start', async t => {
  t.same(windowOf(report([1]), 1_000_250, 1_003_000), { fromMs: 250, toMs: 3000 })
  const { startedAt, ...older } = report([1])
  t.equal(startedAt, 1_000_000)
  t.equal(windowOf(older, 1_000_250, 1_003_000), undefined, 'no start, no window')
})

t.test('the no-verdict sentence says how far behind, the limit, why it says nothing, and what to do', async t => {
  t.equal(LAG_LIMIT_MS, 1000)
  t.equal(laggedLine(41_234, 150, 'more CPU for the load Pod (--load-cpu)'),
    'the load generator fell behind its schedule by up to 41.234s while the Pods were stopped (more than 1.000s): ' +
    'its failures and successes then measure its own lack of CPU, not the rollout. ' +
    'Run it again with more CPU for the load Pod (--load-cpu) or a rate below 150 requests/s')
})
