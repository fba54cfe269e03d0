import t from 'tap'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { startRenewer, type RenewalMetrics } from '../../../src/renew/renewer.js'
import type { LeaseLock } from '../../../src/renew/lease.js'
import type { RunResult } from '../../../src/certs/run.js'
import { createCa } from '../../../src/certs/pki.js'
import { parseCertificate, type CertificateInfo } from '../../../src/certs/pem.js'

const timing = { maxIntervalMs: 60_000, busyRetryMs: 20, firstRetryMs: 20, maxRetryMs: 40 }
const cert = parseCertificate((await createCa({ validityMs: 86_400_000, now: new Date() })).cert) as CertificateInfo

function logger (): { logger: pino.Logger, lines: () => Array<{ level: number, msg: string, steps?: string[] }> } {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
  return { logger: pino({ level: 'debug' }, stream), lines: () => lines.map(line => JSON.parse(line) as { level: number, msg: string }) }
}

function counting (): RenewalMetrics & { counts: Record<string, number> } {
  const counts: Record<string, number> = { serving: 0, ca: 0, failed: 0 }
  return { counts, renewed: which => { counts[which]!++ }, renewalFailed: () => { counts.failed!++ } }
}

/** A lock that says yes or no from a list (then yes), and records releases. */
function lockOf (answers: boolean[]): LeaseLock & { events: string[] } {
  const events: string[] = []
  return { events, acquire: async () => { const yes = answers.shift() ?? true; events.push(yes ? 'acquired' : 'busy'); return yes }, release: async () => { events.push('released') } }
}

/** Polls `done` every 10 ms until it holds (or 10 s pass): timers run late on a busy machine. */
async function eventually (done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await sleep(10)
}

const result = (changes: Partial<RunResult>): RunResult => ({
  changed: false,
  pendingUntil: undefined,
  ca: cert,
  serving: cert,
  caNew: false,
  servingNew: false,
  nextRenewal: new Date(Date.now() + 3_600_000),
  ...changes
})

t.test('runs at once under the Lease, counts what it renewed, logs the steps, and sleeps until the next renewal', async t => {
  const { logger: log, lines } = logger()
  const metrics = counting()
  const lock = lockOf([])
  let runs = 0
  const renewer = startRenewer({ lock, now: () => new Date(), logger: log, metrics, timing, renew: async say => { runs++; say('serving certificate: new'); return result({ changed: true, caNew: true, servingNew: true }) } })
  await eventually(() => lock.events.length === 2)
  await sleep(50)
  await renewer.close()
  t.equal(runs, 1, 'one run: the next is an hour away')
  t.same(lock.events, ['acquired', 'released'])
  t.same(metrics.counts, { serving: 1, ca: 1, failed: 0 })
  t.match(lines().find(line => line.msg === 'certificate renewal: done'), { level: 30, steps: ['serving certificate: new'] })
})

t.test('another replica holds the Lease: tries again shortly, and then has nothing to do', async t => {
  const { logger: log, lines } = logger()
  const lock = lockOf([false])
  const renewer = startRenewer({
    lock,
    now: () => new Date(),
    logger: log,
    metrics: counting(),
    timing,
    renew: async () => result({})
  })
  await eventually(() => lock.events.includes('released'))
  await renewer.close()
  t.same(lock.events, ['busy', 'acquired', 'released'])
  t.ok(lines().some(line => line.msg === 'certificate renewal: nothing to do' && line.level === 20), 'at debug level')
})

t.test('a failed run is counted and logged, the Lease given back, and retried with backoff', async t => {
  const { logger: log, lines } = logger()
  const metrics = counting()
  const lock = lockOf([])
  let runs = 0
  const renewer = startRenewer({
    lock, now: () => new Date(), logger: log, metrics, timing,
    renew: async say => { runs++; if (runs <= 2) { say('CA kept'); throw new Error('writing Secret x: forbidden (403)') } return result({ changed: true, servingNew: true }) }
  })
  await eventually(() => lock.events.length === 6)
  await renewer.close()
  t.equal(runs, 3)
  t.same(metrics.counts, { serving: 1, ca: 0, failed: 2 })
  t.same(lock.events, ['acquired', 'released', 'acquired', 'released', 'acquired', 'released'])
  t.match(lines().filter(line => line.level === 50), [{ msg: /^certificate renewal failed/, steps: ['CA kept'], failures: 1 }, { failures: 2 }])
})

t.test('a Lease that cannot be read is a failure too', async t => {
  const { logger: log } = logger()
  const metrics = counting()
  const renewer = startRenewer({ lock: { acquire: async () => { throw new Error('reading Lease: forbidden') }, release: async () => undefined }, now: () => new Date(), logger: log, metrics, timing: { ...timing, firstRetryMs: 60_000, maxRetryMs: 60_000 }, renew: async () => result({}) })
  await eventually(() => metrics.counts.failed === 1)
  await renewer.close()
  t.equal(metrics.counts.failed, 1)
})

t.test('close waits for a run in flight, and no run follows (default timing)', async t => {
  const { logger: log } = logger()
  let runs = 0
  let entered!: () => void
  const inRun = new Promise<void>(resolve => { entered = resolve })
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const renewer = startRenewer({
    lock: lockOf([]),
    now: () => new Date(),
    logger: log,
    metrics: counting(),
    renew: async () => {
      runs++
      entered()
      await gate
      return result({ nextRenewal: new Date() })
    }
  })
  await inRun
  let closed = false
  const closing = renewer.close().then(() => { closed = true })
  await sleep(20)
  t.notOk(closed, 'still waiting for the run')
  release()
  await closing
  t.ok(closed, 'closed once the run ended')
  await sleep(1200)
  t.equal(runs, 1, 'and no run after it, though one was due')
})

t.test('wake(): a run now instead of at the due time; during a run, one more right after it; after close, nothing', async t => {
  const { logger: log } = logger()
  const lock = lockOf([])
  let runs = 0
  let release: () => void = () => {}
  let holding = false
  const renewer = startRenewer({
    lock,
    now: () => new Date(),
    logger: log,
    metrics: counting(),
    timing,
    renew: async () => {
      runs++
      if (holding) await new Promise<void>(resolve => { release = resolve })
      return result({})
    }
  })
  await eventually(() => runs === 1 && lock.events.length === 2)
  renewer.wake()
  await eventually(() => runs === 2)
  t.equal(runs, 2, 'woken: the hour\'s wait is cut short')
  await eventually(() => lock.events.length === 4)
  holding = true
  renewer.wake()
  await eventually(() => runs === 3)
  renewer.wake()
  renewer.wake()
  t.equal(runs, 3, 'not a second run while one is in flight')
  holding = false
  release()
  await eventually(() => runs === 4)
  t.equal(runs, 4, 'one more right after it, for both wakes')
  await eventually(() => lock.events.length === 8)
  await renewer.close()
  renewer.wake()
  await sleep(50)
  t.equal(runs, 4, 'closed: no run')
})
