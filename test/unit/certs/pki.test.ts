import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BACKDATE_MS, createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'

const now = new Date('2030-01-01T00:00:00Z')
const ca = await createCa({ validityMs: 3650 * 86_400_000, now })
const names = serviceDnsNames('lameduck', 'lameduck-system')
const serving = await issueServing(ca, { commonName: 'lameduck.lameduck-system.svc', dnsNames: names, validityMs: 365 * 86_400_000, now })

t.test('the DNS names of a Service, as the API server and clients may use them', async t => {
  t.same(serviceDnsNames('web', 'shop'), ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local'])
})

t.test('a CA: EC P-256, SHA-256, a CA that signs only end-entity certificates, a name of its own', async t => {
  const cert = new X509Certificate(ca.cert)
  const key = createPrivateKey(ca.key)
  t.equal(key.asymmetricKeyType, 'ec')
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  t.ok(cert.checkPrivateKey(key))
  t.equal(cert.ca, true)
  t.equal(cert.subject, `CN=lameduck-ca@${now.getTime() / 1000}`)
  t.equal(cert.issuer, cert.subject, 'self-signed')
  t.ok(cert.verify(cert.publicKey))
  t.equal(Date.parse(cert.validFrom), now.getTime() - BACKDATE_MS, 'backdated a little')
  t.equal(Date.parse(cert.validTo), now.getTime() + 3650 * 86_400_000)
  t.ok(ca.cert.endsWith('-----END CERTIFICATE-----\n') && ca.key.endsWith('-----END PRIVATE KEY-----\n'), 'PEMs end with a newline')
})

t.test('a serving certificate signed by the CA for exactly the Service names', async t => {
  const cert = new X509Certificate(serving.cert)
  t.ok(cert.checkPrivateKey(createPrivateKey(serving.key)))
  t.equal(cert.ca, false)
  t.ok(cert.checkIssued(new X509Certificate(ca.cert)), 'issued by the CA')
  t.ok(cert.verify(new X509Certificate(ca.cert).publicKey), 'signed by its key')
  t.equal(cert.subject, 'CN=lameduck.lameduck-system.svc')
  t.equal(cert.subjectAltName, names.map(name => `DNS:${name}`).join(', '))
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: server auth only')
  t.equal(Date.parse(cert.validTo), now.getTime() + 365 * 86_400_000)
  t.ok(serving.cert.endsWith('\n'))
})

t.test('with IP addresses too: each an IP SAN, which Go and OpenSSL check for https://<IP>', async t => {
  const withIps = await issueServing(ca, { commonName: 'lameduck', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], validityMs: 86_400_000, now })
  const cert = new X509Certificate(withIps.cert)
  t.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(cert.checkIP('::1'), '::1')
  t.equal(cert.checkIP('127.0.0.2'), undefined)
  t.equal(new X509Certificate(serving.cert).checkIP('127.0.0.1'), undefined, 'none without them')
})

t.test('OpenSSL verifies the chain for the svc name with SHA-256 signatures', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-pki-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'ca.crt'), ca.cert)
  await writeFile(join(dir, 'tls.crt'), serving.cert)
  const at = String(Math.floor(now.getTime() / 1000) + 60)
  const out = execFileSync('openssl', ['verify', '-attime', at, '-purpose', 'sslserver', '-verify_hostname', 'lameduck.lameduck-system.svc', '-CAfile', join(dir, 'ca.crt'), join(dir, 'tls.crt')], { encoding: 'utf8' })
  t.match(out, /tls\.crt: OK/)
  const text = execFileSync('openssl', ['x509', '-in', join(dir, 'tls.crt'), '-noout', '-text'], { encoding: 'utf8' })
  t.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
  t.match(text, /NIST CURVE: P-256/)
  const caText = execFileSync('openssl', ['x509', '-in', join(dir, 'ca.crt'), '-noout', '-text'], { encoding: 'utf8' })
  t.match(caText, /CA:TRUE, pathlen:0/)
  t.match(caText, /Certificate Sign, CRL Sign/)
})

t.test('backdated by five minutes, or a tenth of a short validity (a test\'s certificate of minutes)', async t => {
  const year = new X509Certificate(serving.cert)
  t.equal(Date.parse(year.validFrom), now.getTime() - BACKDATE_MS)
  const short = new X509Certificate((await issueServing(ca, { commonName: 'x', dnsNames: names, validityMs: 90_000, now })).cert)
  t.equal(Date.parse(short.validFrom), now.getTime() - 9000)
  t.equal(Date.parse(short.validTo), now.getTime() + 90_000)
})
