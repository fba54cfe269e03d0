import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { Writable } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { Registry } from 'prom-client'
import { createCertificateMetrics, watchCertificateExpiry } from '../../../src/serve/cert-metrics.js'
import { staticKeyPair, type KeyPairSource } from '../../../src/tls/key-pair.js'
import type { KeyPair } from '../../../src/admission/types.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'

const DAY = 86_400_000
const now = new Date()
const ca = await createCa({ validityMs: 300 * DAY, now })
const otherCa = await createCa({ validityMs: 100 * DAY, now: new Date(now.getTime() + 1000) })
const names = serviceDnsNames('lameduck', 'lameduck-system')
const serving = await issueServing(ca, { commonName: 'x', dnsNames: names, validityMs: 30 * DAY, now })
const renewed = await issueServing(ca, { commonName: 'x', dnsNames: names, validityMs: 10 * DAY, now })
const seconds = (pem: string): number => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000)

function capture (): { logger: pino.Logger, lines: Array<{ level: number, msg: string, certificate?: string }> } {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number, msg: string })
      done()
    }
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

/** A source whose pair the test switches. */
function switchable (pair: KeyPair): KeyPairSource & { switchTo: (next: KeyPair) => void } {
  const listeners = new Set<(pair: KeyPair) => void>()
  let current = pair
  return {
    current: () => current,
    onChange: listener => { listeners.add(listener); return () => { listeners.delete(listener) } },
    close: () => undefined,
    switchTo: next => { current = next; for (const listener of listeners) listener(next) }
  }
}

/** Polls `done` every 10 ms until it holds (or 10 s pass): timers run late on a busy machine. */
async function eventually (done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000 && !await done(); i++) await sleep(10)
}

const gauge = async (registry: Registry, certificate: string): Promise<number | undefined> => {
  const line = (await registry.metrics()).split('\n').find(l => l.startsWith(`lameduck_certificate_expiry_timestamp_seconds{certificate="${certificate}"}`))
  return line === undefined ? undefined : Number(line.split(' ').pop())
}

t.test('the expiry of the served certificate and of the CA that signed it, kept current across reloads', async t => {
  const dir = t.testdir({})
  await writeFile(join(dir, 'ca.crt'), otherCa.cert + ca.cert)
  const registry = new Registry()
  const metrics = createCertificateMetrics(registry)
  const source = switchable(serving)
  const { logger, lines } = capture()
  const watch = watchCertificateExpiry({ tls: source, certFile: join(dir, 'tls.crt'), metrics, logger, warnWithinMs: 14 * DAY, now: () => now })
  t.teardown(watch.close)
  await watch.ready
  t.equal(await gauge(registry, 'serving'), seconds(serving.cert))
  t.equal(await gauge(registry, 'ca'), seconds(ca.cert), 'the CA that issued it, not the other one in the bundle')
  t.same(lines, [], 'a month left: no warning')
  source.switchTo(renewed)
  await eventually(async () => await gauge(registry, 'serving') === seconds(renewed.cert))
  t.equal(await gauge(registry, 'serving'), seconds(renewed.cert), 'after a reload')
  t.match(lines, [{ level: 40, msg: /^TLS certificate expires soon/, certificate: 'serving' }], 'ten days left: a warning')
})

t.test('without a ca.crt (or --self-signed), the serving certificate only; the warning comes back on a timer', async t => {
  const registry = new Registry()
  const { logger, lines } = capture()
  const watch = watchCertificateExpiry({ tls: staticKeyPair(renewed), certFile: join(t.testdir({}), 'tls.crt'), metrics: createCertificateMetrics(registry), logger, warnWithinMs: 14 * DAY, now: () => now, intervalMs: 20 })
  await watch.ready
  await eventually(() => lines.length >= 3)
  watch.close()
  t.equal(await gauge(registry, 'ca'), undefined)
  t.ok(lines.length >= 3, `warned at load and on the timer (${lines.length})`)
  const quiet = watchCertificateExpiry({
    tls: staticKeyPair(serving),
    certFile: undefined,
    metrics: createCertificateMetrics(new Registry()),
    logger,
    warnWithinMs: 0,
    now: () => now
  })
  await quiet.ready
  quiet.close()
})

t.test('a pair from a Secret: nothing while a placeholder is served, then the pair and the CA the Secret came with', async t => {
  const registry = new Registry()
  const source = switchable(serving)
  let served: { pair: KeyPair, ca: string | undefined } | undefined
  const { logger } = capture()
  const metrics = createCertificateMetrics(registry)
  const watch = watchCertificateExpiry({
    tls: source, certFile: undefined, served: () => served, metrics, logger, warnWithinMs: 0, now: () => now
  })
  t.teardown(watch.close)
  await watch.ready
  t.equal(await gauge(registry, 'serving'), undefined, 'the placeholder is not reported')
  served = { pair: serving, ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }
  source.switchTo(serving)
  await eventually(async () => await gauge(registry, 'serving') === seconds(serving.cert))
  t.equal(await gauge(registry, 'ca'), undefined, 'a ca.crt that does not parse: no CA')
  served = { pair: renewed, ca: otherCa.cert + ca.cert }
  source.switchTo(renewed)
  await eventually(async () => await gauge(registry, 'serving') === seconds(renewed.cert))
  t.equal(await gauge(registry, 'serving'), seconds(renewed.cert))
  t.equal(await gauge(registry, 'ca'), seconds(ca.cert), 'from the Secret\'s ca.crt')
})

t.test('renewals and failures are counted; both certificates show 0 from the start', async t => {
  const registry = new Registry()
  const metrics = createCertificateMetrics(registry)
  t.match(await registry.metrics(), /lameduck_certificate_renewals_total\{certificate="ca"\} 0/)
  metrics.renewed('serving')
  metrics.renewed('serving')
  metrics.renewalFailed()
  const text = await registry.metrics()
  t.match(text, /lameduck_certificate_renewals_total\{certificate="serving"\} 2/)
  t.match(text, /lameduck_certificate_renewal_failures_total 1/)
})
