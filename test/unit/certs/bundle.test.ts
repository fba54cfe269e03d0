import t from 'tap'
import { planBundle } from '../../../src/certs/bundle.js'
import { createCa } from '../../../src/certs/pki.js'
import { parseCertificate, type CertificateInfo } from '../../../src/certs/pem.js'

const DAY = 86_400_000
const t0 = new Date('2030-01-01T00:00:00Z')
const at = (ms: number): Date => new Date(t0.getTime() + ms)
const [oldPair, currentPair, shortPair] = await Promise.all([
  createCa({ validityMs: 300 * 86_400_000, now: at(-DAY) }),
  createCa({ validityMs: 300 * 86_400_000, now: t0 }),
  createCa({ validityMs: 1 * 86_400_000, now: at(-DAY / 2) })
])
const info = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo
const [old, current, short] = [info(oldPair!.cert), info(currentPair!.cert), info(shortPair!.cert)]
const overlapMs = 10 * 60_000
const subjects = (certs: readonly CertificateInfo[]): string[] => certs.map(cert => cert.subject)

t.test('an empty caBundle gets the CA, to be written before the Secret', async t => {
  const plan = planBundle(['', ''], current, { caSince: t0, overlapMs, now: t0 })
  t.same(subjects(plan.certificates), [current.subject])
  t.match(plan, { changed: true, added: true, dropped: [], pendingUntil: undefined })
})

t.test('a bundle that already is the CA is left alone', async t => {
  const plan = planBundle([current.pem, `\n${current.pem}`], current, { caSince: t0, overlapMs, now: at(DAY) })
  t.match(plan, { changed: false, added: false, dropped: [], pendingUntil: undefined })
})

t.test('a new CA joins the old one, which stays for the overlap', async t => {
  const plan = planBundle([old.pem], current, { caSince: t0, overlapMs, now: t0 })
  t.same(subjects(plan.certificates), [old.subject, current.subject], 'old first, new appended')
  t.match(plan, { changed: true, added: true, dropped: [] })
  t.same(plan.pendingUntil, at(overlapMs))
})

t.test('during the overlap nothing changes; after it the old CA leaves', async t => {
  const both = old.pem + current.pem
  const during = planBundle([both], current, { caSince: t0, overlapMs, now: at(overlapMs - 1) })
  t.match(during, { changed: false, added: false, dropped: [] })
  t.same(during.pendingUntil, at(overlapMs))
  const after = planBundle([both], current, { caSince: t0, overlapMs, now: at(overlapMs) })
  t.same(subjects(after.certificates), [current.subject])
  t.match(after, { changed: true, added: false, pendingUntil: undefined })
  t.same(after.dropped, [`${old.subject} (replaced by ${current.subject} since ${t0.toISOString()})`])
})

t.test('an expired CA leaves at once, and so does an entry that is not a certificate', async t => {
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
  const plan = planBundle([short.pem + broken + current.pem], current, { caSince: t0, overlapMs, now: at(DAY) })
  t.same(subjects(plan.certificates), [current.subject])
  t.match(plan, { changed: true, added: false, pendingUntil: undefined })
  t.equal(plan.dropped.length, 2)
  t.match(plan.dropped[0], /^an entry that is not a valid certificate/)
  t.equal(plan.dropped[1], `${short.subject} (expired on 2030-01-01)`)
})

t.test('webhooks whose bundles differ are all brought to the same bundle', async t => {
  const plan = planBundle([current.pem, old.pem + current.pem], current, { caSince: t0, overlapMs, now: t0 })
  t.same(subjects(plan.certificates), [current.subject, old.subject], 'the union, in order of first appearance')
  t.match(plan, { changed: true, added: false })
})
