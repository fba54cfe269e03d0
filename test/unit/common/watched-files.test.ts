import t from 'tap'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { watchFiles } from '../../../src/common/watched-files.js'
import { capture } from '../../helpers/tls.js'

const read = async (path: string): Promise<string> => await readFile(path, 'utf8')
const parse = ([text]: readonly string[]): number => {
  const n = Number(text)
  if (!Number.isInteger(n)) throw new Error(`${JSON.stringify(text)} is not a whole number`)
  return n
}

t.test('a problem that lasts is warned about once; the last good value is kept; a new value is announced', async t => {
  const dir = t.testdir({ 'n.txt': '1' })
  const path = join(dir, 'n.txt')
  const { logger, lines } = capture()
  const changes: number[] = []
  const problems: string[] = []
  const file = await watchFiles({ paths: [path], read, parse, what: 'number file', logger, pollIntervalMs: 0, watch: false, onChange: n => changes.push(n), onProblem: err => problems.push(err.message) })
  t.teardown(() => file.close())
  await rm(path)
  for (let i = 0; i < 3; i++) t.equal(await file.reload(), false, 'missing')
  await writeFile(path, 'x')
  for (let i = 0; i < 3; i++) t.equal(await file.reload(), false, 'bad')
  t.equal(file.current(), 1, 'the last good value')
  t.match(problems, [/ENOENT/, /"x" is not a whole number/], 'each problem once')
  t.equal(lines.filter(line => line.level === 40 && line.msg === 'number file not reloaded; keeping the last good version').length, 2)
  await writeFile(path, '2')
  t.equal(await file.reload(), true)
  t.same(changes, [2])
  t.equal(file.current(), 2)
})

t.test('a file that cannot be read or parsed at start rejects; closed, nothing is read again', async t => {
  const dir = t.testdir({ 'bad.txt': 'x', 'n.txt': '1' })
  const options = { read, parse, what: 'number file', logger: capture().logger, pollIntervalMs: 0, watch: false as const }
  await t.rejects(watchFiles({ ...options, paths: [join(dir, 'missing.txt')] }), { code: 'ENOENT' })
  await t.rejects(watchFiles({ ...options, paths: [join(dir, 'bad.txt')] }), { message: '"x" is not a whole number' })
  const file = await watchFiles({ ...options, paths: [join(dir, 'n.txt')] })
  await file.close()
  await writeFile(join(dir, 'n.txt'), '3')
  t.equal(await file.reload(), false)
  t.equal(file.current(), 1)
})
