import t from 'tap'
import { median, medianTail, quantile, ratio, round2, round3, sideBySideKeys, tail } from '../../../bench/stats.js'

t.test('quantiles are nearest-rank over sorted values', async t => {
  const values = Float64Array.from({ length: 1000 }, (_, i) => i + 1)
  t.equal(quantile(values, 0.5), 500)
  t.equal(quantile(values, 0.99), 990)
  t.equal(quantile(values, 0.999), 999)
  t.equal(quantile(values, 0), 1, 'q 0 is the smallest')
  t.equal(quantile(values, 1), 1000, 'q 1 is the largest')
  t.ok(Number.isNaN(quantile([], 0.5)), 'no values, no quantile')
  t.equal(median([3, 1, 2]), 2, 'median of values in any order')
  t.same(tail(values), { p50: 500, p99: 990, p999: 999 })
})

t.test('each quantile of several runs is the median over the runs: one bad run does not make the figure', async t => {
  const runs = [{ p50: 1, p99: 4, p999: 10 }, { p50: 1.2, p99: 40, p999: 90 }, { p50: 0.9, p99: 5, p999: 12 }]
  t.same(medianTail(runs), { p50: 1, p99: 5, p999: 12 })
})

t.test('ratios are lameduck over the Go peer, to three places, and absent when there is nothing to divide by', async t => {
  t.equal(ratio(3, 2), 1.5)
  t.equal(ratio(1, 3), 0.333)
  t.equal(ratio(1, 0), undefined, 'zero')
  t.equal(ratio(1, -0.2), undefined, 'a negative added latency (noise) gives no ratio')
  t.equal(ratio(undefined, 1), undefined)
  t.equal(ratio(1, Number.NaN), undefined)
  t.equal(round2(1.005), 1)
  t.equal(round3(2.0004), 2)
})

t.test('the side-by-side keys', async t => {
  const fast = { p50: 1, p99: 3, p999: 9 }
  const keys = sideBySideKeys({
    rps: { lameduck: 9000, go: 3000.4 },
    fixed: {
      lameduck: [fast, fast, { p50: 2, p99: 30, p999: 90 }],
      go: [
        { p50: 1, p99: 2, p999: 6 },
        { p50: 1, p99: 2, p999: 6 },
        { p50: 1, p99: 2, p999: 6 }
      ]
    },
    rss: { lameduckIdle: 80, goIdle: 20, lameduck: 90, go: 30 },
    apiserver: { lameduckAdded: 1.1, goAdded: 1 }
  })
  t.same(keys, {
    goRps: 3000,
    throughputVsGo: 3,
    p50MsAt1000: 1, p99MsAt1000: 3, p999MsAt1000: 9,
    goP50MsAt1000: 1, goP99MsAt1000: 2, goP999MsAt1000: 6,
    p99VsGo: 1.5, p999VsGo: 1.5, fixedRuns: 3,
    rssMbIdle: 80, goRssMbIdle: 20, goRssMb: 30, rssMbVsGo: 3, rssMbIdleVsGo: 4,
    goAddedMsMedian: 1, addedVsGo: 1.1
  })
  t.same(sideBySideKeys({}), {}, 'a skipped part leaves its keys out')
})
