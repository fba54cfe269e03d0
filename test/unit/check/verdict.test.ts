import t from 'tap'
import { disruptionOf, extractReport, judge } from '../../../src/check/verdict.js'
import { toJsonReport, type JsonReport } from '../../../src/load/report.js'
import type { LoadResult } from '../../../src/load/run.js'
import type { PodTimes } from '../../../src/check/observe.js'

/** A finished load of `labels.length` requests at 10/s, one outcome each. */
function report (labels: string[], aborted = false): JsonReport {
  const outcomes = [...new Set(labels)].map(label => ({ label, ok: /^[23]\d\d$/.test(label) }))
  const result: LoadResult = {
    url: 'http://web.shop.svc:80/',
    rate: 10,
    durationMs: labels.length * 100,
    elapsedMs: labels.length * 100 + 5,
    aborted,
    count: labels.length,
    latencyMs: Float32Array.from(labels, () => 1),
    outcome: Uint16Array.from(labels, l => outcomes.findIndex(o => o.label === l)),
    outcomes,
    errorCodes: {},
    bytesIn: 0
  }
  return toJsonReport(result)
}

t.test('extractReport finds the JSON line among the text report and the progress lines of the log', async t => {
  const r = report(['200', '200', 'reset'])
  const log = `sent 3, answered 2, failed 0\nRequests      [total]   3\n${JSON.stringify(r)}\nsent 3, answered 3, failed 1\n\n`
  t.same(extractReport(log), r)
})

t.test('extractReport: no report, or not a report, is an error that quotes the log', async t => {
  t.throws(() => extractReport(''), { message: 'the load Pod\'s log has no JSON report (it is empty)' })
  t.throws(() => extractReport('a\nb\nc\nd\n'), { message: 'the load Pod\'s log has no JSON report (it ends: b | c | d)' })
  t.throws(() => extractReport('{"url": "x"}\n'), { message: /^not a lameduck load report: aborted/ })
})

t.test('judge passes only a complete run with no failure, and names the failures by kind', async t => {
  t.same(judge(report(['200', '301', '200'])), { code: 0, line: 'PASS: all 3 requests succeeded during the rollout' })
  t.same(judge(report(['200', 'refused', '503', 'refused', 'reset'])), { code: 1, line: 'FAIL: 4 of 5 requests failed during the rollout (503:1 reset:1 refused:2)' })
  t.same(judge(report([])), { code: 1, line: 'FAIL: no request was sent' })
  t.same(judge(report(['200'], true)), { code: 1, line: 'FAIL: the load stopped early, after 1 requests' })
})

/** A report of 1 s at 10 requests/s started at 1,000,000 ms, with a hand-off delay of `lagMs` from 500 ms on. */
function lagging (labels: string[], lagMs: number): JsonReport {
  const r = report(labels)
  const timeline = r.timeline.map(b => ({ ...b, lagMs: b.t >= 500 ? lagMs : 2 }))
  return { ...r, timeline, startedAt: 1_000_000, maxLagMs: Math.max(2, lagMs), lateShare: 0.5, maxStallMs: lagMs }
}

const ten = (failed: number): string[] => Array.from({ length: 10 }, (_, i) => i < failed ? 'timeout' : '200')
const oldPod = (deletedAt: number, more: object = {}): PodTimes => ({ pod: 'web-a', deletedAt, ...more })

t.test('no verdict when the load fell more than a second behind while the old Pods were stopped, failures or not', async t => {
  const pods = [oldPod(1_000_400, { exitedAt: 1_000_900 })]
  const stalled = judge(lagging(ten(7), 4200), pods, 'more CPU for the load Pod (--load-cpu, now 100m)')
  t.equal(stalled.code, 3, 'neither PASS nor FAIL')
  t.equal(stalled.line, 'NO VERDICT: the load generator fell behind its schedule by up to 4.200s while the Pods were stopped ' +
    '(more than 1.000s): its failures and successes then measure its own lack of CPU, not the rollout. ' +
    'Run it again with more CPU for the load Pod (--load-cpu, now 100m) or a rate below 10 requests/s')
  t.equal(judge(lagging(ten(0), 4200), [oldPod(1_000_600)]).code, 3, 'a pass can be hollow too')
  t.match(judge(lagging(ten(0), 4200)).line, /^NO VERDICT: .* Run it again with more CPU for the load or a rate/,
    'no old Pod seen: the whole run')
  const before = [oldPod(1_000_100, { exitedAt: 1_000_300 })]
  t.equal(judge(lagging(ten(2), 4200), before).code, 1, 'a lag after the Pods were gone does not count')
  t.equal(judge(lagging(ten(0), 1000), [oldPod(1_000_600)]).code, 0, 'a second is still judged')
  t.equal(judge({ ...lagging(ten(0), 4200), aborted: true }).code, 1, 'a load stopped early is a failure of its own')
})

t.test('the disruption: from the first old Pod\'s deletion to the last moment seen of any of them', async t => {
  t.equal(disruptionOf([]), undefined)
  const pods = [oldPod(500, { sigtermAt: 4500, exitedAt: 4000 }), oldPod(300, { endpointRemovedAt: 5200 })]
  t.same(disruptionOf(pods), { fromAt: 300, toAt: 5200 })
  t.same(disruptionOf([oldPod(700)]), { fromAt: 700, toAt: 700 })
})
