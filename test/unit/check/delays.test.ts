import t from 'tap'
import {
  annotateCommand, formatDelays, lastAnswers, offset, pauseReached, podDelays, recommend, seconds, sleepWarning,
  summarizeDelays, type PodDelay
} from '../../../src/check/delays.js'
import { toJsonReport } from '../../../src/load/report.js'

const report = (
  replicas?: Record<string, { first: number, last: number, answers: number }>,
  startedAt?: number
): ReturnType<typeof toJsonReport> =>
  toJsonReport({
    url: 'http://lb/',
    rate: 10,
    durationMs: 100,
    elapsedMs: 100,
    aborted: false,
    count: 1,
    latencyMs: Float32Array.of(1),
    outcome: Uint16Array.of(0),
    outcomes: [{ label: '200', ok: true }],
    errorCodes: {},
    bytesIn: 1,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(replicas === undefined ? {} : { replicas })
  })

t.test('the last answers, on the wall clock: the load\'s start plus its own times', async t => {
  t.same(lastAnswers(report({ 'web-a': { first: 10, last: 5000, answers: 3 } }, 1_000_000)), new Map([['web-a', 1_005_000]]))
  t.same(lastAnswers(report(undefined, 1_000_000)), new Map(), 'no replicas without --identify')
  t.same(lastAnswers(report({ 'web-a': { first: 10, last: 5000, answers: 3 } })), new Map(), 'no start from an older load')
})

t.test('per Pod: deletion to last answer, 0 when it answered nothing after; in deletion order', async t => {
  const delays = podDelays([{ pod: 'web-b', deletedAt: 2000 }, { pod: 'web-a', deletedAt: 1000 }, { pod: 'web-c', deletedAt: 3000 }], new Map([['web-a', 6200], ['web-b', 1500]]))
  t.same(delays, [
    { pod: 'web-a', deletedAt: 1000, lastAnswerAt: 6200, delayMs: 5200 },
    { pod: 'web-b', deletedAt: 2000, lastAnswerAt: 1500, delayMs: 0 },
    { pod: 'web-c', deletedAt: 3000 }
  ])
  t.same(summarizeDelays(delays), { pods: 2, maxMs: 5200, p99Ms: 5200 })
  t.equal(summarizeDelays([{ pod: 'web-c', deletedAt: 3000 }]), undefined)
  const many = Array.from({ length: 200 }, (_, i): PodDelay => ({ pod: `p${i}`, deletedAt: 0, delayMs: i * 10 }))
  t.same(summarizeDelays(many), { pods: 200, maxMs: 1990, p99Ms: 1970 }, 'p99 by nearest rank')
})

t.test('the recommendation: max plus 2 s or a quarter, rounded up to the second, and its kubectl line', async t => {
  t.same(recommend('shop', 5016), { sleepSeconds: 8, marginMs: 2000, command: 'kubectl annotate namespace shop lameduck.dev/prestop-sleep=8s --overwrite' })
  t.same(recommend('shop', 0), { sleepSeconds: 2, marginMs: 2000, command: annotateCommand('shop', 2) })
  t.same(recommend('shop', 40_000).sleepSeconds, 50, 'a quarter once that is more than 2 s')
  t.equal(recommend('shop', 40_001).sleepSeconds, 51)
  t.equal(seconds(5016.4), '5.02s')
})

t.test('a last answer within a second of SIGTERM: the pause, not the routing, ended the traffic', async t => {
  t.same(pauseReached([
    { pod: 'a', deletedAt: 0, lastAnswerAt: 19_500, sigtermAt: 20_000 },
    { pod: 'b', deletedAt: 0, lastAnswerAt: 5000, sigtermAt: 20_000 },
    { pod: 'c', deletedAt: 0, lastAnswerAt: 5000 },
    { pod: 'd', deletedAt: 0, sigtermAt: 20_000 }
  ]), ['a'])
})

t.test('the lines: each moment after the Pod\'s deletion', async t => {
  const at = Date.parse('2026-11-30T06:05:09.929Z')
  const lines = formatDelays([
    { pod: 'web-a', deletedAt: at, endpointNotReadyAt: at + 10, endpointRemovedAt: at + 9600, lastAnswerAt: at + 4970, sigtermAt: at + 8000, exitedAt: at + 8070, delayMs: 4970 },
    { pod: 'web-bb', deletedAt: at + 2000 }
  ])
  t.same(lines, [
    'Pod     deleted at    endpoint not ready  endpoint gone  last answer  SIGTERM  exit    delay',
    'web-a   06:05:09.929  +0.01s              +9.60s         +4.97s       +8.00s   +8.07s  4.97s',
    'web-bb  06:05:11.929  -                   -              -            -        -       no answer'
  ])
})

t.test('an offset is signed once: a moment before the deletion reads -0.06s, not +-0.06s', async t => {
  t.equal(offset(1000, 940), '-0.06s')
  t.equal(offset(1000, 1000), '+0.00s')
  t.equal(offset(1000, 2200), '+1.20s')
  t.equal(offset(1000, undefined), '-')
  const [, row] = formatDelays([{ pod: 'web-a', deletedAt: 5000, exitedAt: 4940 }])
  t.match(row, / -0\.06s /, 'in the table, as the exit a Traefik run showed before its deletion')
})

t.test('the warning of a pass/fail check: a pause not longer than the delay', async t => {
  const summary = { pods: 2, maxMs: 5000, p99Ms: 5000 }
  t.equal(sleepWarning([{ pod: 'a', deletedAt: 0, sleepSeconds: 8 }, { pod: 'b', deletedAt: 0, sleepSeconds: 9 }], summary), undefined)
  t.equal(sleepWarning([{ pod: 'a', deletedAt: 0, sleepSeconds: 6 }, { pod: 'b', deletedAt: 0, sleepSeconds: 9 }], summary),
    'WARNING: the old Pods\' prestop-sleep (6s) is not longer than the measured propagation delay (5.00s), which it may cut short: run lameduck check --measure to see the whole delay')
  t.equal(sleepWarning([{ pod: 'a', deletedAt: 0, sleepSeconds: 9 }, { pod: 'b', deletedAt: 0 }], summary),
    'WARNING: some old Pods had no preStop sleep, so their propagation delay (up to 5.00s here) may have been cut short: run lameduck check --measure to see the whole delay')
})
