import t from 'tap'
import { measure, measurementJson, type MeasurementInput } from '../../../src/check/measurement.js'
import { toJsonReport } from '../../../src/load/report.js'

const START = Date.parse('2026-11-30T06:00:00Z')
const report = toJsonReport({
  url: 'http://127.0.0.1:8080/', rate: 10, durationMs: 100, elapsedMs: 100, aborted: false, count: 2, latencyMs: Float32Array.of(1, 1), outcome: Uint16Array.of(0, 0), outcomes: [{ label: '200', ok: true }], errorCodes: {}, bytesIn: 1,
  startedAt: START, replicas: { 'web-a': { first: 0, last: 15_200, answers: 1 }, 'web-b': { first: 0, last: 20_100, answers: 1 } }
})
const input: MeasurementInput = {
  namespace: 'shop', deployment: 'web', service: 'web', url: 'http://127.0.0.1:8080/', identify: 'json:pod', report, remedy: 'more CPU',
  pods: [{ pod: 'web-a', deletedAt: START + 10_000, sleepSeconds: 60, sigtermAt: START + 70_000 }, { pod: 'web-b', deletedAt: START + 15_000, sleepSeconds: 60, sigtermAt: START + 75_000 }]
}

t.test('--measure: per Pod, overall, the sleep to set and the line that sets it; exit 0', async t => {
  const m = measure({ ...input, measureSleepSeconds: 60 })
  t.equal(m.code, 0)
  t.same(m.summary, { pods: 2, maxMs: 5200, p99Ms: 5200 })
  t.same(m.recommendation, { sleepSeconds: 8, marginMs: 2000, command: 'kubectl annotate namespace shop lameduck.dev/prestop-sleep=8s --overwrite' })
  const text = m.lines.join('\n')
  t.match(text, /^\nPropagation delay through http:\/\/127\.0\.0\.1:8080\/: from each old Pod's deletion to the last request it answered\n {2}Pod /)
  t.match(text, /\n {2}web-a +06:00:10\.000 .* 5\.20s\n/)
  t.match(text, /propagation delay: max 5\.20s, p99 5\.20s over 2 old Pods\nrecommended prestop-sleep: 8s \(max 5\.20s \+ margin 2\.00s, rounded up to the second\); to set it for the namespace:\n {2}kubectl annotate namespace shop lameduck\.dev\/prestop-sleep=8s --overwrite$/)
  const json = measurementJson({ ...input, measureSleepSeconds: 60 }, m) as Record<string, unknown>
  t.match(json, { namespace: 'shop', deployment: 'web', service: 'web', mode: 'measure', measureSleepSeconds: 60, delay: { maxMs: 5200 }, recommendation: { sleepSeconds: 8 }, warnings: [], report })
  t.same((json.pods as Array<{ pod: string, delayMs: number }>).map(p => [p.pod, p.delayMs]), [['web-a', 5200], ['web-b', 5100]])
  t.notOk('verdict' in json)
})

t.test('--measure: a last answer at the end of the pause is no full measure; exit 1', async t => {
  const m = measure({ ...input, measureSleepSeconds: 10, pods: [{ pod: 'web-a', deletedAt: START + 5500, sleepSeconds: 10, sigtermAt: START + 15_500 }] })
  t.equal(m.code, 1)
  t.same(m.warnings, ['WARNING: web-a answered until its 10s measuring pause ran out: the delay may be longer than measured; run again with a longer --measure-sleep'])
  t.equal(m.lines.at(-1), m.warnings[0])
})

t.test('nothing to measure: no old Pod seen, or no answer that names its replica', async t => {
  const none = measure({ ...input, pods: [] })
  t.equal(none.code, 1)
  t.equal(none.lines.at(-1), 'propagation delay: not measured: no old Pod was seen leaving')
  const anonymous = measure({ ...input, identify: 'header:X-Pod', measureSleepSeconds: 60, report: { ...report, replicas: {} } })
  t.equal(anonymous.lines.at(-1), 'propagation delay: not measured: no answer said which replica sent it (--identify header:X-Pod; docs/check.md)')
  t.match(anonymous.lines.join('\n'), /web-a .* no answer/)
  t.same(measurementJson(input, anonymous), { ...measurementJson(input, anonymous), delay: null, recommendation: null })
})

t.test('a pass/fail check: the delay, a warning when the pause was not longer, no recommendation', async t => {
  const short = measure({ ...input, pods: input.pods.map(p => ({ ...p, sleepSeconds: 5 })) })
  t.equal(short.code, 0)
  t.equal(short.recommendation, undefined)
  t.match(short.lines.at(-1), /^WARNING: the old Pods' prestop-sleep \(5s\) is not longer than the measured propagation delay \(5\.20s\)/)
  const fine = measure(input)
  t.same(fine.warnings, [])
  t.match(fine.lines.at(-1), /^propagation delay: max 5\.20s/)
  t.match(measurementJson(input, fine, { code: 1, line: 'FAIL: 3 of 9 requests failed' }), { mode: 'check', verdict: { passed: false, line: 'FAIL: 3 of 9 requests failed' } })
  t.notOk('measureSleepSeconds' in measurementJson(input, fine))
})
