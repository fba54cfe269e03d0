import t from 'tap'
import { flush, ns, setup } from '../../helpers/namespaces.js'

t.test('an error restarts the watch after a doubling backoff, capped, reset after a healthy period', async t => {
  const { informer, timers, lookup, sync, count } = setup({
    backoff: { initialMs: 100, maxMs: 350, healthyMs: 1000 },
    silenceMs: 60_000
  })
  await sync()
  informer.emit('add', ns('kept'))
  const delays: number[] = []
  for (let i = 0; i < 4; i++) {
    informer.emit('error', new Error('watch broke'))
    informer.emit('error', new Error('a second error while waiting is ignored'))
    delays.push(timers.delays.at(-1)!)
    t.equal(informer.starts.length, i + 1, 'not restarted before the delay')
    timers.advance(delays.at(-1)!)
    t.equal(informer.starts.length, i + 2, 'restarted after the delay')
    t.ok(lookup.ready(), 'still ready: the stale cache is served')
    t.equal((await lookup.get('kept'))?.name, 'kept')
    await sync()
  }
  t.same(delays, [100, 200, 350, 350])
  t.equal(count('watch-restart'), 4)
  timers.advance(1000)
  informer.emit('error', new Error('after a healthy minute'))
  t.equal(timers.delays.at(-1), 100, 'backoff reset')
  t.ok(informer.stops >= 5, 'each restart stops the old watch first')
})

t.test('an error during the first start keeps it unready until a start succeeds', async t => {
  const { informer, timers, lookup, sync } = setup({ backoff: { initialMs: 10 } })
  informer.emit('error', new Error('list failed'))
  await sync(0)
  t.equal(lookup.ready(), false)
  timers.advance(10)
  await sync(1)
  t.equal(lookup.ready(), true)
})

t.test('only the current start counts; a rejected start is an error like any other', async t => {
  const { informer, timers, lookup } = setup({ backoff: { initialMs: 10 } })
  informer.emit('error', new Error('list failed'))
  timers.advance(10)
  informer.starts[0]!.resolve()
  await flush()
  t.equal(lookup.ready(), false, 'a start superseded by a newer one settling late is ignored')
  informer.emit('error', new Error('list failed again'))
  timers.advance(20)
  informer.starts[1]!.reject(new Error('stale'))
  await flush()
  t.same(timers.delays, [10, 20], 'a stale rejection schedules nothing')
  informer.starts[2]!.reject(new Error('No currently active cluster'))
  await flush()
  t.same(timers.delays, [10, 20, 40], 'a rejection of the current start backs off')
  timers.advance(40)
  informer.starts[3]!.resolve()
  await flush()
  t.equal(lookup.ready(), true)
})

t.test('a silent watch is restarted; any event postpones that', async t => {
  const { informer, timers, sync, count } = setup({ silenceMs: 1000, backoff: { initialMs: 50 } })
  await sync()
  timers.advance(600)
  informer.emit('connect')
  timers.advance(600)
  t.equal(informer.stops, 0, 'an event 600 ms ago keeps it')
  timers.advance(400)
  t.equal(informer.stops, 1, 'silent for 1000 ms: stopped')
  informer.emit('error', new Error('AbortError of the stopped watch'))
  timers.advance(50)
  t.equal(informer.starts.length, 2, 'and started again')
  t.equal(count('watch-restart'), 0, 'routine restarts are not counted as failures')
})

t.test('close stops the informer and every restart; misses are no longer read', async t => {
  const { informer, timers, lookup, reads, sync } = setup({ backoff: { initialMs: 10 } })
  await sync()
  informer.emit('error', new Error('broke'))
  await lookup.close()
  timers.advance(1000)
  t.equal(informer.starts.length, 1, 'no restart after close')
  t.equal(timers.pending(), 0)
  t.equal(lookup.ready(), false)
  t.equal(await lookup.get('anything'), undefined)
  t.same(reads, [])
})

t.test('close during a start stops the watch that start goes on to open; stop failures are only logged', async t => {
  const { informer, lookup } = setup()
  informer.stopError = new Error('stop failed')
  await lookup.close()
  t.equal(informer.stops, 1)
  informer.starts[0]!.resolve()
  await flush()
  t.equal(informer.stops, 2)
  t.equal(lookup.ready(), false)
})

t.test('close during a start that then fails', async t => {
  const { informer, lookup } = setup()
  await lookup.close()
  informer.starts[0]!.reject(new Error('list failed'))
  await flush()
  t.equal(informer.stops, 1, 'nothing more to stop')
})
