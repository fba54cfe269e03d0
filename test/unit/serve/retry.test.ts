import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { eventually } from '../../../src/serve/retry.js'

t.test('the fallback until the read succeeds, retrying with growing delays', async t => {
  const warnings: Array<{ retryInMs: number, msg: string }> = []
  const logger = pino(new Writable({ write (chunk, _e, done) { warnings.push(JSON.parse(String(chunk))); done() } }))
  // The retry timers are unref'd (they must not hold a stopping process), so hold this one open.
  const keepAlive = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(keepAlive))
  let calls = 0
  let succeed: () => void = () => {}
  const succeeded = new Promise<void>(resolve => { succeed = resolve })
  const value = eventually({
    read: async () => {
      calls++
      if (calls < 4) throw new Error(`refused ${calls}`)
      succeed()
      return 'sleep'
    },
    fallback: 'exec',
    pending: 'API server version not read yet',
    logger,
    initialDelayMs: 5,
    maxDelayMs: 12
  })
  t.equal(value.value(), 'exec')
  t.same(value.notReady(), ['API server version not read yet'])
  await succeeded
  await new Promise(resolve => setImmediate(resolve))
  t.equal(value.value(), 'sleep')
  t.same(value.notReady(), [])
  t.equal(calls, 4)
  t.same(warnings.map(w => w.retryInMs), [5, 10, 12], 'doubling, capped')
  t.match(warnings[0]?.msg, /API server version not read yet; retrying/)
})

t.test('defaults: one read at once', async t => {
  const value = eventually({ read: async () => 1, fallback: 0, pending: 'p', logger: pino({ level: 'silent' }) })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(value.value(), 1)
})
