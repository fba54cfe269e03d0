import t, { type Test } from 'tap'
import { X509Certificate, createPrivateKey, createPublicKey, verify } from 'node:crypto'
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { pino, type Logger } from 'pino'
import {
  checkKeyPair, createSelfSignedKeyPair, describeCertificate, staticKeyPair, tlsOptions, watchKeyPair,
  type KeyPairSource, type WatchKeyPairOptions
} from '../../src/tls.js'
import type { KeyPair } from '../../src/types.js'

const [A, B] = await Promise.all([createSelfSignedKeyPair(), createSelfSignedKeyPair({ dnsNames: ['b.example'] })])
const fingerprint = (pair: KeyPair): string => new X509Certificate(pair.cert).fingerprint256
const silent = pino({ level: 'silent' })

/** A logger whose lines the test can read. */
function capture (): { logger: Logger, lines: Array<{ level: number, msg: string, err?: { message: string } }> } {
  const lines: Array<{ level: number, msg: string, err?: { message: string } }> = []
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } }) }
}

async function waitFor (what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

function nextChange (source: KeyPairSource, ms = 5000): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no key pair change within ${ms} ms`)) }, ms)
    const off = source.onChange(pair => { clearTimeout(timer); off(); resolve(pair) })
  })
}

function writePair (dir: string, pair: KeyPair): void {
  writeFileSync(join(dir, 'tls.crt'), pair.cert)
  writeFileSync(join(dir, 'tls.key'), pair.key)
}

/** Starts a watcher on `dir`'s tls.crt/tls.key and closes it when the test ends. */
async function watchDir (t: Test, dir: string, opts: Partial<WatchKeyPairOptions> = {}): Promise<Awaited<ReturnType<typeof watchKeyPair>>> {
  const source = await watchKeyPair({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), logger: silent, ...opts })
  t.teardown(() => { source.close() })
  return source
}

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

async function listen (t: Test, server: tls.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => { resolve() })))
  return (server.address() as AddressInfo).port
}

/** Opens a TLS connection; resolves once the handshake is done, with the socket closed at teardown. */
function connect (t: Test, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', ...opts }, () => { resolve(socket) })
    socket.on('error', reject)
    t.teardown(() => { socket.destroy() })
  })
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

t.test('watchKeyPair refuses to start on a missing or unusable pair', async t => {
  const dir = t.testdir({ 'garbage.pem': 'hello', 'a.crt': A.cert, 'a.key': A.key, 'b.key': B.key, sub: {} })
  const cases: Array<[string, string, RegExp]> = [
    ['missing.crt', 'a.key', /^TLS certificate file .*missing\.crt does not exist$/],
    ['a.crt', 'missing.key', /^TLS key file .*missing\.key does not exist$/],
    ['sub', 'a.key', /^cannot read TLS certificate file .*sub: EISDIR/],
    ['garbage.pem', 'a.key', /^TLS certificate file .*garbage\.pem: not a PEM certificate/],
    ['a.crt', 'garbage.pem', /^TLS key file .*garbage\.pem: not a PEM private key/],
    ['a.crt', 'b.key', /^TLS key file .*b\.key does not match certificate file .*a\.crt$/]
  ]
  for (const [cert, key, message] of cases) {
    await t.rejects(watchKeyPair({ certFile: join(dir, cert), keyFile: join(dir, key), logger: silent }), message, `${cert} + ${key}`)
  }
})

t.test('watchKeyPair logs the certificate and warns when it is outside its validity period', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  for (const [year, warning] of [['2999', 'expired'], ['2000', 'not valid yet'], [undefined, undefined]]) {
    const { logger, lines } = capture()
    const now = year === undefined ? undefined : (): Date => new Date(`${year}-01-01`)
    const source = await watchDir(t, dir, { logger, now, watch: false, pollIntervalMs: 0 })
    t.equal(source.current().cert, A.cert)
    t.match(lines[0], { msg: 'TLS key pair loaded', certificate: { fingerprint256: fingerprint(A) } })
    t.equal(lines.filter(line => line.level === 40).length, warning === undefined ? 0 : 1, String(year))
    if (warning !== undefined) t.match(lines[1]?.msg, warning)
  }
})

t.test('a rewrite is picked up by the directory watch alone', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const source = await watchDir(t, dir, { pollIntervalMs: 0 })
  const changed = nextChange(source)
  writePair(dir, B)
  t.equal(fingerprint(await changed), fingerprint(B))
  t.equal(source.current().cert, B.cert)
})

t.test('a rewrite is picked up by polling alone', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const source = await watchDir(t, dir, { watch: false, pollIntervalMs: 20 })
  const seen: KeyPair[] = []
  source.onChange(pair => seen.push(pair))
  writePair(dir, B)
  await waitFor('the poll to see pair B', () => seen.length > 0)
  t.equal(fingerprint(seen[0]!), fingerprint(B))
  t.equal(await source.reload(), false, 'the same content again is no change')
  t.equal(seen.length, 1, 'polls of unchanged files fire nothing')
})

t.test('a Kubernetes Secret volume update (atomic ..data symlink swap) is picked up', async t => {
  const dir = t.testdir()
  const version = (name: string, pair: KeyPair): void => {
    mkdirSync(join(dir, name))
    writePair(join(dir, name), pair)
    symlinkSync(name, join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
  }
  version('..2026_01_01_00_00_00.1', A)
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'))
  symlinkSync('..data/tls.key', join(dir, 'tls.key'))
  const source = await watchDir(t, dir, { pollIntervalMs: 0 })
  t.equal(source.current().cert, A.cert)
  const changed = nextChange(source)
  version('..2026_01_01_00_01_00.2', B)
  t.equal(fingerprint(await changed), fingerprint(B))
})

t.test('a bad or half-written new pair is ignored, with one warning, and the old one kept', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const { logger, lines } = capture()
  const source = await watchDir(t, dir, { logger, pollIntervalMs: 20 })
  source.onChange(pair => t.equal(pair.cert, B.cert, 'only the good pair B is ever switched to'))
  const warnings = (): string[] => lines.filter(line => line.level === 40).map(line => line.err?.message ?? '')
  writeFileSync(join(dir, 'tls.key'), B.key)
  await waitFor('a warning about the mismatch', () => warnings().length === 1)
  t.match(warnings()[0], /tls\.key does not match certificate/)
  t.equal(await source.reload(), false)
  t.equal(warnings().length, 1, 'the same problem is not repeated')
  t.equal(source.current().key, A.key, 'the old pair is kept')
  writeFileSync(join(dir, 'tls.crt'), '')
  await waitFor('a warning about the empty certificate', () => warnings().length === 2)
  t.match(warnings()[1], /tls\.crt: not a PEM certificate/)
  const changed = nextChange(source)
  writeFileSync(join(dir, 'tls.crt'), B.cert)
  t.equal(fingerprint(await changed), fingerprint(B))
})

t.test('a missing file during an update is ignored, and the problem warned about again when it recurs', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const { logger, lines } = capture()
  const source = await watchDir(t, dir, { logger, watch: false, pollIntervalMs: 0 })
  const warnings = (): number => lines.filter(line => line.level === 40).length
  renameSync(join(dir, 'tls.key'), join(dir, 'moved.key'))
  t.equal(await source.reload(), false)
  t.match(lines.at(-1)?.err?.message, /TLS key file .*tls\.key does not exist/)
  renameSync(join(dir, 'moved.key'), join(dir, 'tls.key'))
  t.equal(await source.reload(), false, 'back to the current pair')
  renameSync(join(dir, 'tls.key'), join(dir, 'moved.key'))
  t.equal(await source.reload(), false)
  t.equal(warnings(), 2, 'a problem seen again after a good read is warned about again')
})

t.test('concurrent reloads share one read, and a failing listener does not stop the others', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const { logger, lines } = capture()
  const source = await watchDir(t, dir, { logger, watch: false, pollIntervalMs: 0 })
  const seen: string[] = []
  source.onChange(() => { throw new Error('listener bug') })
  source.onChange(pair => seen.push(fingerprint(pair)))
  writePair(dir, B)
  t.same(await Promise.all([source.reload(), source.reload(), source.reload()]), [true, true, true])
  t.same(seen, [fingerprint(B)], 'one switch, one call')
  t.match(lines.find(line => line.level === 50), { msg: 'TLS key pair change listener failed', err: { message: 'listener bug' } })
  t.equal(await source.reload(), false, 'a later reload reads again and finds no change')
})

t.test('close() stops the watcher and the poll, so the process can exit', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const count = (): Record<string, number> => {
    const counts: Record<string, number> = { FSEventWrap: 0, Timeout: 0 }
    for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]!++
    return counts
  }
  const before = count()
  const source = await watchKeyPair({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), logger: silent })
  t.same(count(), { FSEventWrap: before.FSEventWrap! + 1, Timeout: before.Timeout! + 1 }, 'one watcher, one poll timer')
  const pending = source.reload()
  source.close()
  writePair(dir, B)
  t.equal(await pending, false, 'a reload in flight does not switch after close')
  t.equal(await source.reload(), false, 'nor does a later one')
  t.equal(source.current().cert, A.cert)
  await waitFor('the watcher handle to go', () => count().FSEventWrap === before.FSEventWrap)
  t.same(count(), before)
})

t.test('end to end: new connections get the new pair, open ones keep working', async t => {
  const dir = t.testdir({ 'tls.crt': A.cert, 'tls.key': A.key })
  const source = await watchDir(t, dir, { pollIntervalMs: 50 })
  const server = tls.createServer(tlsOptions(source.current()), socket => socket.pipe(socket))
  source.onChange(pair => { server.setSecureContext(tlsOptions(pair)) })
  const port = await listen(t, server)
  const client = { port, ca: [A.cert, B.cert] }
  const first = await connect(t, client)
  t.equal(first.getPeerCertificate().fingerprint256, fingerprint(A))
  const changed = nextChange(source)
  writePair(dir, B)
  await changed
  const second = await connect(t, client)
  t.equal(second.getPeerCertificate().fingerprint256, fingerprint(B), 'a new connection sees B')
  const echoed = new Promise<string>(resolve => first.setEncoding('utf8').once('data', resolve))
  first.write('still here')
  t.equal(await echoed, 'still here', 'the connection opened under A still works')
})
