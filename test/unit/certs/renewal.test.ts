import t from 'tap'
import { judgeCa, judgeServing, nextRenewal, validityText, type Verdict, type Wanted } from '../../../src/certs/renewal.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'
import { parseCertificate, type CertificateInfo } from '../../../src/certs/pem.js'

const DAY = 86_400_000
const issued = new Date('2030-01-01T00:00:00Z')
const at = (days: number): Date => new Date(issued.getTime() + days * DAY)
const names = serviceDnsNames('lameduck', 'lameduck-system')
const wanted: Wanted = {
  dnsNames: names,
  ipAddresses: [],
  validityMs: 30 * 86_400_000,
  caValidityMs: 300 * 86_400_000,
  force: false,
  rotateCa: false
}

const ca = await createCa({ validityMs: 300 * 86_400_000, now: issued })
const caInfo = parseCertificate(ca.cert) as CertificateInfo
const otherCa = await createCa({ validityMs: 300 * 86_400_000, now: at(1) })
const serving = await issueServing(ca, { commonName: 'svc', dnsNames: names, validityMs: 30 * 86_400_000, now: issued })
const reason = (verdict: Verdict): string => verdict.keep ? 'kept' : verdict.reason

t.test('a CA stays while it has more than a third of its validity left and outlives a new serving certificate', async t => {
  const kept = judgeCa(ca, wanted, at(10))
  t.ok(kept.keep)
  if (kept.keep) {
    t.equal(kept.cert.fingerprint, caInfo.fingerprint)
    t.ok(Math.abs(kept.renewAt.getTime() - at(200).getTime()) < 10 * 60_000, 'due at two thirds')
  }
  t.match(reason(judgeCa(ca, wanted, at(201))), /^less than a third of the CA's validity is left \(it expires on 2030-10-28\)$/)
  t.match(reason(judgeCa(ca, { ...wanted, validityMs: 250 * 86_400_000 }, at(60))), /^the CA expires on 2030-10-28, before a 250-day serving certificate would$/)
  t.equal(reason(judgeCa(ca, { ...wanted, rotateCa: true }, at(1))), '--rotate-ca')
  t.equal(reason(judgeCa(ca, { ...wanted, force: true }, at(1))), 'kept', '--force alone keeps a good CA')
})

t.test('a CA that is missing, broken, mismatched, expired, not yet valid or not a CA is replaced, saying why', async t => {
  const cases: Array<[string, Parameters<typeof judgeCa>[0], Date, RegExp]> = [
    ['none', undefined, at(1), /^no CA yet$/],
    ['not PEM', { cert: 'nonsense', key: ca.key }, at(1), /^the stored CA is not a PEM certificate$/],
    ['no key file', { cert: ca.cert, key: '' }, at(1), /^the stored CA has no private key$/],
    ['key not PEM', { cert: ca.cert, key: 'nonsense' }, at(1), /^the stored CA key is not a PEM private key$/],
    ['another key', { cert: ca.cert, key: otherCa.key }, at(1), /^the stored CA key does not match its certificate$/],
    ['too early', ca, at(-1), /^the stored CA is not valid before 2029-12-31T23:55:00.000Z$/],
    ['expired', ca, at(301), /^the stored CA expired on 2030-10-28$/],
    ['not a CA', serving, at(1), /^the stored CA certificate is not a CA \(basicConstraints\)$/]
  ]
  for (const [name, pair, now, expected] of cases) t.match(reason(judgeCa(pair, wanted, now)), expected, name)
})

t.test('a serving certificate stays while valid, signed by the CA, naming every name, with a third left', async t => {
  const kept = judgeServing(serving, caInfo, wanted, at(5))
  t.ok(kept.keep)
  if (kept.keep) t.ok(Math.abs(kept.renewAt.getTime() - at(20).getTime()) < 10 * 60_000)
  t.match(reason(judgeServing(serving, caInfo, wanted, at(21))), /^less than a third of the serving certificate's validity is left \(it expires on 2030-01-31\)$/)
  t.equal(reason(judgeServing(serving, caInfo, { ...wanted, force: true }, at(1))), '--force')
})

t.test('a serving certificate that is missing, broken, signed by another CA or missing a name is replaced, saying why', async t => {
  const otherInfo = parseCertificate(otherCa.cert) as CertificateInfo
  const wrongNames = await issueServing(ca, { commonName: 'lameduck.lameduck-system.svc', dnsNames: names.slice(0, 2), validityMs: 30 * 86_400_000, now: issued })
  t.equal(reason(judgeServing(undefined, caInfo, wanted, at(1))), 'no serving certificate yet')
  t.equal(reason(judgeServing({ cert: serving.cert, key: ca.key }, caInfo, wanted, at(1))), 'the stored serving certificate key does not match its certificate')
  t.equal(reason(judgeServing(serving, caInfo, wanted, at(31))), 'the stored serving certificate expired on 2030-01-31')
  t.match(reason(judgeServing(serving, otherInfo, wanted, at(2))), /^the serving certificate is not signed by the CA CN=lameduck-ca@\d+$/)
  t.equal(reason(judgeServing(wrongNames, caInfo, wanted, at(1))), 'the serving certificate does not name lameduck.lameduck-system.svc, lameduck.lameduck-system.svc.cluster.local',
    'the common name does not count, as in Go')
  t.equal(reason(judgeServing(serving, caInfo, { ...wanted, dnsNames: serviceDnsNames('other', 'lameduck-system') }, at(1))).startsWith('the serving certificate does not name other, '), true, 'another --service')
  t.equal(reason(judgeServing(serving, caInfo, { ...wanted, dnsNames: [...names, 'localhost'], ipAddresses: ['127.0.0.1', '::1'] }, at(1))),
    'the serving certificate does not name localhost, 127.0.0.1, ::1', 'a --dns or --ip it lacks')
  const withIp = await issueServing(ca, { commonName: 'svc', dnsNames: names, ipAddresses: ['127.0.0.1'], validityMs: 30 * 86_400_000, now: issued })
  t.equal(reason(judgeServing(withIp, caInfo, { ...wanted, ipAddresses: ['127.0.0.1'] }, at(1))), 'kept', 'one that has them stays')
})

t.test('a CA is due at two thirds, or earlier once it would not outlive a serving certificate issued then', async t => {
  const long = judgeCa(ca, { ...wanted, validityMs: 150 * DAY }, at(10))
  t.ok(long.keep)
  if (long.keep) t.ok(Math.abs(long.renewAt.getTime() - at(150).getTime()) < 10 * 60_000, '300 days - 150 days')
})

t.test('nextRenewal: the earlier of the serving certificate\'s and the CA\'s renewal', async t => {
  const servingInfo = parseCertificate(serving.cert) as CertificateInfo
  t.ok(Math.abs(nextRenewal(caInfo, servingInfo, wanted).getTime() - at(20).getTime()) < 10 * 60_000, 'the serving certificate first')
  const late = parseCertificate((await issueServing(ca, { commonName: 'svc', dnsNames: names, validityMs: 30 * DAY, now: at(190) })).cert) as CertificateInfo
  t.ok(Math.abs(nextRenewal(caInfo, late, wanted).getTime() - at(200).getTime()) < 10 * 60_000, 'then the CA')
})

t.test('validities in messages: days when whole, else a duration', async t => {
  t.equal(validityText(250 * DAY), '250-day')
  t.equal(validityText(90_000), '1m30s')
})
