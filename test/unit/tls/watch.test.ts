import t, { type Test } from 'tap'
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import type { KeyPairSource } from '../../../src/tls/key-pair.js'
import { tlsOptions } from '../../../src/tls/key-pair.js'
import { watchKeyPair, type WatchKeyPairOptions } from '../../../src/tls/watch.js'
import type { KeyPair } from '../../../src/admission/types.js'
import { A, B, capture, connect, fingerprint, listen, silent, waitFor } from '../../helpers/tls.js'

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
async function watchDir (
  t: Test,
  dir: string,
  opts: Partial<WatchKeyPairOptions> = {}
): Promise<Awaited<ReturnType<typeof watchKeyPair>>> {
  const source = await watchKeyPair({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    logger: silent,
    ...opts
  })
  t.teardown(() => {
    source.close()
  })
  return source
}

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
