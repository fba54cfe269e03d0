import t from 'tap'
import { createHash, X509Certificate } from 'node:crypto'
import { day, isSignedBy, joinPem, parseCertificate, renewalTime, splitPem, type CertificateInfo } from '../../../src/certs/pem.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'

const now = new Date('2030-06-01T12:00:00Z')
const [ca, other] = await Promise.all([
  createCa({ validityMs: 30 * 86_400_000, now }),
  createCa({ validityMs: 30 * 86_400_000, now: new Date(now.getTime() + 1000) })
])
const serving = await issueServing(ca!, { commonName: 'x', dnsNames: serviceDnsNames('x', 'y'), validityMs: 3 * 86_400_000, now })
const parse = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo

t.test('splitPem finds each certificate block, ignores the rest, and ends each with a newline', async t => {
  const bundle = `# comment\n${ca!.cert.trimEnd()}junk between${other!.cert}\n\n${ca!.key}`
  t.same(splitPem(bundle), [ca!.cert, other!.cert])
  t.same(splitPem(''), [])
  t.same(splitPem(ca!.key), [], 'a private key is not a certificate')
})

t.test('joinPem concatenates, so that splitPem gives the same certificates back', async t => {
  const certs = [parse(ca!.cert), parse(other!.cert)]
  const joined = joinPem(certs)
  t.equal(joined, ca!.cert + other!.cert)
  t.same(splitPem(joined), [ca!.cert, other!.cert])
  t.equal(joinPem([]), '')
})

t.test('parseCertificate reads subject, dates and a SHA-256 fingerprint of the first certificate', async t => {
  const info = parse(`${serving.cert}${ca!.cert}`)
  const x509 = new X509Certificate(serving.cert)
  t.equal(info.subject, 'CN=x')
  t.equal(info.pem, serving.cert)
  t.same(info.notBefore, new Date(x509.validFrom))
  t.same(info.notAfter, new Date(now.getTime() + 3 * 86_400_000))
  t.equal(info.fingerprint, createHash('sha256').update(x509.raw).digest('hex'))
})

t.test('parseCertificate returns an Error saying what is wrong', async t => {
  t.match(parseCertificate('hello'), { message: 'not a PEM certificate' })
  t.match(parseCertificate(ca!.key), { message: 'not a PEM certificate' })
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
  t.match(parseCertificate(broken), { message: /^not a valid certificate \(/ })
})

t.test('isSignedBy checks the issuer and the signature', async t => {
  t.equal(isSignedBy(parse(serving.cert), parse(ca!.cert)), true)
  t.equal(isSignedBy(parse(serving.cert), parse(other!.cert)), false, 'another CA')
  t.equal(isSignedBy(parse(ca!.cert), parse(ca!.cert)), true, 'a self-signed CA signed itself')
})

t.test('renewal is due once two thirds of the validity have passed', async t => {
  const notBefore = new Date('2030-01-01T00:00:00Z')
  t.same(renewalTime({ notBefore, notAfter: new Date('2030-01-01T03:00:00Z') }), new Date('2030-01-01T02:00:00Z'))
  t.same(renewalTime({ notBefore, notAfter: new Date('2031-01-01T00:00:00Z') }), new Date(notBefore.getTime() + Math.round(365 * 86_400_000 * 2 / 3)))
})

t.test('day is the calendar date in UTC', async t => {
  t.equal(day(new Date('2030-02-03T23:59:59Z')), '2030-02-03')
})
