import t from 'tap'
import { decidePairs } from '../../../src/certs/pair.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'
import { isSignedBy, parseCertificate, type CertificateInfo } from '../../../src/certs/pem.js'
import type { Wanted } from '../../../src/certs/renewal.js'

const DAY = 86_400_000
const t0 = new Date('2030-01-01T00:00:00Z')
const names = serviceDnsNames('lameduck', 'lameduck-system')
const wanted: Wanted = {
  dnsNames: names,
  ipAddresses: [],
  validityMs: 30 * 86_400_000,
  caValidityMs: 300 * 86_400_000,
  force: false,
  rotateCa: false
}
const ca = await createCa({ validityMs: 300 * 86_400_000, now: t0 })
const serving = await issueServing(ca, { commonName: 'lameduck.lameduck-system.svc', dnsNames: names, validityMs: 30 * 86_400_000, now: t0 })
const info = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo

async function decide (
  stored: Parameters<typeof decidePairs>[0],
  overrides: Partial<Wanted>,
  now: Date
): Promise<{ result: Awaited<ReturnType<typeof decidePairs>>, lines: string[] }> {
  const lines: string[] = []
  const result = await decidePairs(
    stored,
    { ...wanted, ...overrides },
    {
      commonName: 'lameduck.lameduck-system.svc',
      now,
      say: line => {
        lines.push(line)
      }
    }
  )
  return { result, lines }
}

t.test('nothing stored: a new CA and a serving certificate it signed', async t => {
  const { result, lines } = await decide({ ca: undefined, serving: undefined }, {}, t0)
  t.match(result, { caNew: true, servingNew: true })
  t.ok(isSignedBy(result.servingInfo, result.caInfo))
  t.equal(result.servingInfo.subject, 'CN=lameduck.lameduck-system.svc')
  t.equal(result.caInfo.pem, result.ca.cert)
  t.equal(result.servingInfo.pem, result.serving.cert)
  t.same(result.servingInfo.notAfter, new Date(t0.getTime() + 30 * DAY))
  t.same(result.caInfo.notAfter, new Date(t0.getTime() + 300 * DAY))
  t.match(lines, [/^CA CN=lameduck-ca@\d+: new, valid until 2030-10-28, because no CA yet$/, /^serving certificate CN=lameduck.lameduck-system.svc: new, valid until 2030-01-31, because the CA is new$/])
})

t.test('a good pair is kept as it is', async t => {
  const { result, lines } = await decide({ ca, serving }, {}, new Date(t0.getTime() + DAY))
  t.match(result, { caNew: false, servingNew: false, ca, serving })
  t.equal(result.servingInfo.fingerprint, info(serving.cert).fingerprint)
  t.match(lines, [/: kept, valid until 2030-10-28, due for renewal from 2030-07-19$/, /: kept, valid until 2030-01-31, due for renewal from 2030-01-20$/])
})

t.test('a serving certificate due for renewal is renewed with the same CA, so the caBundle stays', async t => {
  const { result, lines } = await decide({ ca, serving }, {}, new Date(t0.getTime() + 25 * DAY))
  t.match(result, { caNew: false, servingNew: true, ca })
  t.not(result.serving.cert, serving.cert)
  t.not(result.serving.key, serving.key, 'a new key too')
  t.ok(isSignedBy(result.servingInfo, info(ca.cert)))
  t.match(lines[1], /: new, valid until 2030-02-25, because less than a third of the serving certificate's validity is left/)
})

t.test('--rotate-ca makes both anew', async t => {
  const { result } = await decide({ ca, serving }, { rotateCa: true, force: true }, new Date(t0.getTime() + DAY))
  t.match(result, { caNew: true, servingNew: true })
  t.not(result.caInfo.fingerprint, info(ca.cert).fingerprint)
  t.ok(isSignedBy(result.servingInfo, result.caInfo))
})
