import t from 'tap'
import { createWait, type WaitEnv } from '../../../src/check/wait.js'
import type { WaitState } from '../../../src/check/rollout.js'

/** A clock that moves only when slept, a log, and reads that answer `states` in turn. */
interface Setup { lines: string[], slept: number[], env: WaitEnv, read: () => Promise<WaitState> }

function setup (states: WaitState[], interruptedAfter = Infinity): Setup {
  const lines: string[] = []
  const slept: number[] = []
  let now = 0
  let reads = 0
  const env: WaitEnv = {
    log: line => { lines.push(line) },
    now: () => now,
    sleep: async ms => { slept.push(ms); now += ms },
    interrupted: () => reads > interruptedAfter
  }
  return { lines, slept, env, read: async () => { reads++; return states.length > 1 ? states.shift()! : states[0]! } }
}

const waiting = (message: string): WaitState => ({ done: false, message })

t.test('reads until done, logging each state once, when it changes', async t => {
  const s = setup([waiting('a'), waiting('a'), waiting('b'), { done: true, message: 'done' }])
  await createWait(s.env, 60_000)('the thing', s.read)
  t.same(s.lines, ['a', 'b', 'done'])
  t.same(s.slept, [1000, 1000, 1000], 'once a second by default')
})

t.test('a timeout names what it waited for and the last state; the last sleep ends at the deadline', async t => {
  const s = setup([waiting('still rolling')])
  await t.rejects(createWait(s.env, 5500, 2000)('deployment web to roll out', s.read),
    { message: 'timed out after 5.5s waiting for deployment web to roll out: still rolling' })
  t.same(s.slept, [2000, 2000, 1500])
})

t.test('an interruption stops the wait at once, naming it', async t => {
  const s = setup([waiting('x')], 2)
  await t.rejects(createWait(s.env, 60_000)('the load Job to start', s.read),
    { message: 'interrupted while waiting for the load Job to start' })
  t.equal(s.slept.length, 2)
})
