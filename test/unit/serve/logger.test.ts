import t from 'tap'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { createLogger } from '../../../src/serve/logger.js'

t.test('JSON lines at the level asked for, written asynchronously, all of them and in order', async t => {
  const file = join(t.testdir(), 'log')
  const fd = openSync(file, 'w')
  t.teardown(() => { closeSync(fd) })
  const logger = createLogger('info', fd)
  logger.debug('not at info')
  for (let i = 0; i < 100; i++) logger.info({ i }, 'admission')
  const read = (): string[] => readFileSync(file, 'utf8').trim().split('\n').filter(line => line !== '')
  const deadline = Date.now() + 5000
  while (read().length < 100 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  const lines = read().map(line => JSON.parse(line) as { i: number, msg: string, level: number })
  t.equal(lines.length, 100)
  t.same(lines.map(line => line.i), Array.from({ length: 100 }, (_, i) => i), 'in order')
  t.equal(lines[0]!.msg, 'admission')
})
