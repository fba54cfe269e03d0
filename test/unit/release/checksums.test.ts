import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CHECKSUMS, formatChecksums, writeChecksums } from '../../../release/checksums.js'

t.test('one line per file, sorted by name, in sha256sum\'s format', async t => {
  t.equal(formatChecksums(new Map([['b.yaml', '22'], ['a.tgz', '11']])), '11  a.tgz\n22  b.yaml\n')
})

t.test('written over every other file of the folder, and sha256sum -c accepts it', async t => {
  const dir = t.testdir({ 'install.yaml': 'kind: List\n', 'lameduck-0.1.0.tgz': 'chart' })
  const text = await writeChecksums(dir)
  t.equal(await readFile(join(dir, CHECKSUMS), 'utf8'), text)
  t.match(text, /^[0-9a-f]{64} {2}install\.yaml\n[0-9a-f]{64} {2}lameduck-0\.1\.0\.tgz\n$/)
  const checked = execFileSync('sha256sum', ['-c', CHECKSUMS], { cwd: dir, encoding: 'utf8' })
  t.match(checked, /install\.yaml: OK\nlameduck-0\.1\.0\.tgz: OK/)
})
