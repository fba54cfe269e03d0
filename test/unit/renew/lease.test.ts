import t from 'tap'
import { createLeaseLock, isFree, type LeaseApi, type LeaseRecord } from '../../../src/renew/lease.js'

const t0 = new Date('2030-01-01T00:00:00Z')
const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000)

/** An in-memory Lease with the API server's optimistic concurrency. */
function memoryLease (initial: Omit<LeaseRecord, 'resourceVersion'>): LeaseApi & { record: LeaseRecord } {
  const api = {
    what: 'Lease ns/l',
    record: { ...initial, resourceVersion: '1' } as LeaseRecord,
    async read () { return api.record },
    async write (current: LeaseRecord, next: Omit<LeaseRecord, 'resourceVersion'>) {
      if (current.resourceVersion !== api.record.resourceVersion) return false
      api.record = { ...next, resourceVersion: String(Number(current.resourceVersion) + 1) }
      return true
    }
  }
  return api
}

const free = { holder: undefined, renewTime: undefined, durationSeconds: undefined, transitions: 0 }

t.test('a Lease is free when nobody holds it, when we do, or when its holder has been silent for its duration', async t => {
  const held = { ...free, holder: 'a', renewTime: t0, durationSeconds: 60, resourceVersion: '1' }
  t.ok(isFree({ ...free, resourceVersion: '1' }, 'b', t0))
  t.ok(isFree({ ...held, holder: '' }, 'b', t0), 'an empty holder')
  t.ok(isFree(held, 'a', at(1)), 'ours')
  t.notOk(isFree(held, 'b', at(59)), 'another replica, within its duration')
  t.ok(isFree(held, 'b', at(60)), 'another replica, silent for its duration')
  t.ok(isFree({ ...held, renewTime: undefined }, 'b', t0), 'a holder that never renewed')
  t.ok(isFree({ ...held, durationSeconds: undefined }, 'b', at(0)), 'no duration: free once its renew time is past')
})

t.test('two replicas: one takes the Lease, the other waits until it is given back', async t => {
  const api = memoryLease(free)
  let now = t0
  const a = createLeaseLock(api, { identity: 'a', durationSeconds: 60, now: () => now })
  const b = createLeaseLock(api, { identity: 'b', durationSeconds: 60, now: () => now })
  t.equal(await a.acquire(), true)
  t.match(api.record, { holder: 'a', renewTime: t0, durationSeconds: 60, transitions: 1 })
  t.equal(await b.acquire(), false, 'held by a')
  await b.release()
  t.equal(api.record.holder, 'a', 'b cannot give back what it does not hold')
  t.equal(await a.acquire(), true, 'a again: its own')
  t.equal(api.record.transitions, 1, 'no new transition')
  await a.release()
  t.match(api.record, { holder: undefined, renewTime: undefined, durationSeconds: 60 })
  now = at(1)
  t.equal(await b.acquire(), true)
  t.equal(api.record.transitions, 2)
})

t.test('a holder that died: its Lease is taken after its duration', async t => {
  const api = memoryLease({ holder: 'gone', renewTime: t0, durationSeconds: 60, transitions: 3 })
  let now = at(30)
  const b = createLeaseLock(api, { identity: 'b', durationSeconds: 60, now: () => now })
  t.equal(await b.acquire(), false)
  now = at(61)
  t.equal(await b.acquire(), true)
})

t.test('two replicas that both saw it free: the second write is a conflict, so only one holds it', async t => {
  const api = memoryLease(free)
  const stale = await api.read()
  const a = createLeaseLock(api, { identity: 'a', durationSeconds: 60, now: () => t0 })
  t.equal(await a.acquire(), true)
  const racing = createLeaseLock({ ...api, read: async () => stale }, { identity: 'b', durationSeconds: 60, now: () => t0 })
  t.equal(await racing.acquire(), false)
  t.equal(api.record.holder, 'a')
})
