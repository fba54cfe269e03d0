import t from 'tap'
import { X509Certificate, createPrivateKey, createPublicKey, verify } from 'node:crypto'
import https from 'node:https'
import tls from 'node:tls'
import { checkKeyPair, createSelfSignedKeyPair, describeCertificate, staticKeyPair, tlsOptions } from '../../../src/tls/key-pair.js'
import type { KeyPair } from '../../../src/admission/types.js'
import { A, B, connect, listen } from '../../helpers/tls.js'

/** The outer signatureAlgorithm OID and signature of a DER certificate (RFC 5280 4.1), with the signed bytes. */
function signatureOf (raw: Buffer): { oid: string, signed: Buffer, signature: Buffer } {
  const tlv = (at: number): { start: number, end: number } => {
    let length = raw[at + 1]!
    let header = 2
    if (length & 0x80) {
      const bytes = length & 0x7f
      length = raw.subarray(at + 2, at + 2 + bytes).reduce((sum, byte) => sum * 256 + byte, 0)
      header += bytes
    }
    return { start: at + header, end: at + header + length }
  }
  const cert = tlv(0)
  const tbs = tlv(cert.start)
  const algorithm = tlv(tbs.end)
  const oid = tlv(algorithm.start)
  const bits = tlv(algorithm.end)
  return { oid: raw.subarray(oid.start, oid.end).toString('hex'), signed: raw.subarray(cert.start, tbs.end), signature: raw.subarray(bits.start + 1, bits.end) }
}

t.test('a self-signed pair is EC P-256, signed with SHA-256, for localhost and the given names', async t => {
  const before = Date.now()
  const pair = await createSelfSignedKeyPair({ dnsNames: ['lameduck.lameduck.svc'], days: 30 })
  const cert = checkKeyPair(pair)
  const key = createPrivateKey(pair.key)
  t.equal(key.asymmetricKeyType, 'ec')
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  const { oid, signed, signature } = signatureOf(cert.raw)
  t.equal(oid, '2a8648ce3d040302', 'ecdsa-with-SHA256')
  t.ok(verify('sha256', signed, createPublicKey(pair.cert), signature), 'the signature verifies with SHA-256')
  t.notOk(verify('sha1', signed, createPublicKey(pair.cert), signature), 'and not with SHA-1')
  for (const host of ['localhost', 'lameduck.lameduck.svc']) t.equal(cert.checkHost(host), host, host)
  for (const ip of ['127.0.0.1', '::1']) t.equal(cert.checkIP(ip), ip, ip)
  t.equal(cert.checkHost('other.example'), undefined)
  t.equal(cert.ca, false)
  t.ok(Date.parse(cert.validFrom) <= before, 'valid from before now')
  t.ok(Math.abs(Date.parse(cert.validTo) - (before + 30 * 86_400_000)) < 60_000, 'valid for the given days')
  t.ok(pair.cert.endsWith('-----END CERTIFICATE-----\n') && pair.key.endsWith('-----END PRIVATE KEY-----\n'), 'PEMs end with a newline')
  t.match(describeCertificate(cert), { subject: 'CN=lameduck.lameduck.svc', subjectAltName: /DNS:localhost/, fingerprint256: cert.fingerprint256 })
})

t.test('an HTTPS server with a self-signed pair completes a handshake by name and by IP', async t => {
  const server = https.createServer(tlsOptions(A), (_req, res) => { res.end('ok') })
  const port = await listen(t, server)
  for (const servername of ['localhost', undefined]) {
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, servername, ca: A.cert, agent: false }, res => {
        res.setEncoding('utf8').on('data', resolve)
      }).on('error', reject)
    })
    t.equal(body, 'ok', `servername ${String(servername)}`)
  }
})

t.test('a TLS 1.1 client that a permissive server accepts is refused', async t => {
  const tls11 = { ca: A.cert, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const
  const permissive = tls.createServer({ ...A, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' })
  t.equal((await connect(t, { ...tls11, port: await listen(t, permissive) })).getProtocol(), 'TLSv1.1', 'the client can speak TLS 1.1')
  const ours = tls.createServer(tlsOptions(A))
  ours.on('tlsClientError', () => undefined)
  await t.rejects(connect(t, { ...tls11, port: await listen(t, ours) }), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' })
  t.equal((await connect(t, { ca: A.cert, port: await listen(t, tls.createServer(tlsOptions(A))) })).getProtocol(), 'TLSv1.3')
})

t.test('checkKeyPair names the part that is wrong', async t => {
  const [certOnly, chain] = [A.cert.split('\n'), A.cert + B.cert.slice(0, 200)]
  const cases: Array<[string, KeyPair, RegExp]> = [
    ['garbage certificate', { cert: 'hello', key: A.key }, /^TLS certificate cert\.pem: not a PEM certificate \(/],
    ['empty certificate', { cert: '', key: A.key }, /^TLS certificate cert\.pem: not a PEM certificate/],
    ['truncated certificate', { cert: certOnly.slice(0, 4).join('\n'), key: A.key }, /not a PEM certificate/],
    ['key in the certificate file', { cert: A.key, key: A.key }, /not a PEM certificate/],
    ['garbage key', { cert: A.cert, key: 'hello' }, /^TLS key key\.pem: not a PEM private key \(/],
    ['certificate in the key file', { cert: A.cert, key: A.cert }, /not a PEM private key/],
    ['key of another certificate', { cert: A.cert, key: B.key }, /^TLS key key\.pem does not match certificate cert\.pem$/],
    ['half-written chain', { cert: chain, key: A.key }, /^TLS certificate cert\.pem with key key\.pem: unusable \(.*PEM/]
  ]
  for (const [name, pair, message] of cases) t.throws(() => checkKeyPair(pair, { cert: 'cert.pem', key: 'key.pem' }), message, name)
  t.throws(() => checkKeyPair({ cert: A.cert, key: B.key }), /TLS key \(in memory\) does not match certificate \(in memory\)/)
  t.type(checkKeyPair(A), X509Certificate)
})

t.test('tlsOptions asks for TLS 1.2 or newer', async t => {
  t.same(tlsOptions(A), { key: A.key, cert: A.cert, minVersion: 'TLSv1.2' })
})

t.test('a static pair is checked, then never changes', async t => {
  t.throws(() => staticKeyPair({ cert: A.cert, key: B.key }), /does not match/)
  const source = staticKeyPair(A)
  const off = source.onChange(() => t.fail('a static pair never changes'))
  off()
  source.close()
  t.equal(source.current(), A)
})
