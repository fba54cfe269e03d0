import t from 'tap'
import { countWarningEvents, formatWarningEvents, WATCHED_REASONS } from '../../../src/check/warning-events.js'

const pod = (name: string): { kind: string, name: string } => ({ kind: 'Pod', name })

t.test('counts the Warning events about the stopped Pods, per reason, repeats included', async t => {
  const events = [
    { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: pod('web-a') },
    { type: 'Warning', reason: 'FailedPreStopHook', count: 2, involvedObject: pod('web-b') },
    { type: 'Warning', reason: 'Unhealthy', count: 3, involvedObject: pod('web-a') },
    { type: 'Warning', reason: 'BackOff', count: 0, involvedObject: pod('web-b') },
    { type: 'Warning', involvedObject: pod('web-b') },
    { type: 'Normal', reason: 'Killing', involvedObject: pod('web-a') },
    { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: pod('web-new') },
    { type: 'Warning', reason: 'FailedScheduling', involvedObject: { kind: 'Node', name: 'web-a' } },
    { type: 'Warning', reason: 'Odd' },
    { type: 'Warning', reason: 'Odd', involvedObject: { kind: 'Pod' } }
  ]
  const counts = countWarningEvents(events, new Set(['web-a', 'web-b']))
  t.same(counts, { FailedPreStopHook: 3, BackOff: 1, Unhealthy: 3, unknown: 1 })
  t.same(Object.keys(counts), ['FailedPreStopHook', 'BackOff', 'Unhealthy', 'unknown'],
    'the watched reasons first, then by name')
})

t.test('the watched reasons are there with 0 when nothing happened', async t => {
  t.same(WATCHED_REASONS, ['FailedPreStopHook'])
  t.same(countWarningEvents([], new Set(['web-a'])), { FailedPreStopHook: 0 })
  t.equal(formatWarningEvents({ FailedPreStopHook: 0, Unhealthy: 2 }), 'FailedPreStopHook 0, Unhealthy 2')
})
