import t from 'tap'
import { DEFAULT_TIMING, MARGIN_MS, nextDelay } from '../../../src/renew/schedule.js'

const now = new Date('2030-01-01T00:00:00Z')
const later = (ms: number): Date => new Date(now.getTime() + ms)

t.test('after a run: until the next renewal is due, a second late', async t => {
  t.equal(nextDelay({ kind: 'done', result: { nextRenewal: later(40_000), pendingUntil: undefined } }, now, DEFAULT_TIMING), 40_000 + MARGIN_MS)
  t.equal(nextDelay({ kind: 'done', result: { nextRenewal: later(40_000), pendingUntil: later(20_000) } }, now, DEFAULT_TIMING), 20_000 + MARGIN_MS, 'or the end of a CA rotation\'s overlap, if sooner')
  t.equal(nextDelay({ kind: 'done', result: { nextRenewal: later(-5000), pendingUntil: undefined } }, now, DEFAULT_TIMING), MARGIN_MS, 'already due: at once')
  t.equal(nextDelay({ kind: 'done', result: { nextRenewal: later(200 * 86_400_000), pendingUntil: undefined } }, now, DEFAULT_TIMING), 3_600_000, 'at most an hour: a pair changed meanwhile is looked at again')
})

t.test('another replica holds the Lease: again shortly', async t => {
  t.equal(nextDelay({ kind: 'busy' }, now, DEFAULT_TIMING), 5000)
})

t.test('a failure: exponential backoff, capped', async t => {
  t.same([1, 2, 3, 10].map(failures => nextDelay({ kind: 'failed', failures }, now, DEFAULT_TIMING)), [5000, 10_000, 20_000, 300_000])
})
