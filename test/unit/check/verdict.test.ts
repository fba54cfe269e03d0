import t from 'tap'
import { extractReport, judge } from '../../../src/check/verdict.js'
import { toJsonReport, type JsonReport } from '../../../src/load/report.js'
import type { LoadResult } from '../../../src/load/run.js'

/** A finished load of `labels.length` requests at 10/s, one outcome each. */
function report (labels: string[], aborted = false): JsonReport {
  const outcomes = [...new Set(labels)].map(label => ({ label, ok: /^[23]\d\d$/.test(label) }))
  const result: LoadResult = {
    url: 'http://web.shop.svc:80/', rate: 10, durationMs: labels.length * 100, elapsedMs: labels.length * 100 + 5, aborted, count: labels.length,
    latencyMs: Float32Array.from(labels, () => 1), outcome: Uint16Array.from(labels, l => outcomes.findIndex(o => o.label === l)), outcomes,
    errorCodes: {}, bytesIn: 0
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
