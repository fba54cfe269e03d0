import t from 'tap'
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FILES, readDirectory, writeDirectory } from '../../../src/certs/directory.js'

const ca = { cert: 'CA CERT\n', key: 'CA KEY\n' }
const serving = { cert: 'TLS CERT\n', key: 'TLS KEY\n' }

t.test('a missing directory or file holds no pair', async t => {
  const dir = t.testdir({})
  t.same(await readDirectory(join(dir, 'absent')), { ca: undefined, serving: undefined })
  t.same(await readDirectory(dir), { ca: undefined, serving: undefined })
})

t.test('writes the four files, keys 0600, and reads them back', async t => {
  const dir = join(t.testdir({}), 'new', 'dir')
  const written = await writeDirectory(dir, { ca, serving })
  t.same(written, ['ca.key', 'ca.crt', 'tls.key', 'tls.crt'].map(name => join(dir, name)), 'each key before its certificate')
  t.same(await readDirectory(dir), { ca, serving })
  t.same((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'], 'no temporary file is left')
  for (const [name, mode] of [
    [FILES.caKey, 0o600],
    [FILES.key, 0o600],
    [FILES.caCert, 0o644],
    [FILES.cert, 0o644]
  ] as const) {
    t.equal((await stat(join(dir, name))).mode & 0o777, mode, name)
  }
})

t.test('writes only what differs, by replacing the file (a watcher sees a new file, never half of one)', async t => {
  const dir = t.testdir({})
  await writeDirectory(dir, { ca, serving })
  const before = await stat(join(dir, FILES.cert))
  t.same(await writeDirectory(dir, { ca, serving }), [], 'nothing differs')
  const next = { cert: 'NEW CERT\n', key: 'NEW KEY\n' }
  t.same(await writeDirectory(dir, { ca, serving: next }), [join(dir, FILES.key), join(dir, FILES.cert)])
  t.equal(await readFile(join(dir, FILES.cert), 'utf8'), 'NEW CERT\n')
  t.not((await stat(join(dir, FILES.cert))).ino, before.ino, 'a new inode: renamed over, not rewritten in place')
})

t.test('a certificate whose key file is missing reads as a pair with an empty key', async t => {
  const dir = t.testdir({ 'ca.crt': 'CA CERT\n', 'tls.crt': 'TLS CERT\n', 'tls.key': 'TLS KEY\n' })
  t.same(await readDirectory(dir), { ca: { cert: 'CA CERT\n', key: '' }, serving })
})

t.test('a file that cannot be read is an error naming it', async t => {
  const dir = t.testdir({})
  await mkdir(join(dir, 'tls.crt'))
  await t.rejects(readDirectory(dir), { message: `cannot read ${join(dir, 'tls.crt')}: EISDIR: illegal operation on a directory, read` })
})

t.test('a directory that cannot be made or written is an error naming it', async t => {
  const dir = t.testdir({ file: 'x' })
  await t.rejects(writeDirectory(join(dir, 'file', 'sub'), { ca, serving }), { message: new RegExp(`^cannot create directory ${join(dir, 'file', 'sub')}: ENOTDIR`) })
  await mkdir(join(dir, 'taken', 'ca.key'), { recursive: true })
  await writeFile(join(dir, 'taken', 'ca.key', 'inside'), 'x')
  await t.rejects(writeDirectory(join(dir, 'taken'), { ca, serving }), { message: /^cannot read .*ca\.key: EISDIR/ })
})

t.test('a file that cannot be written is an error naming it', async t => {
  const dir = t.testdir({})
  // The temporary file's name is taken by a directory, so writing it fails (as EACCES would, and root ignores modes).
  await mkdir(join(dir, `.ca.key.${process.pid}.tmp`))
  await t.rejects(writeDirectory(dir, { ca, serving }), { message: new RegExp(`^cannot write ${join(dir, 'ca.key')}: EISDIR`) })
})
