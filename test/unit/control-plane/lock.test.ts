import t from 'tap'
import { writeFile, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { isStale } from '../../../control-plane/lock.js'

t.test('a lock is stale when its holders died, or when it never got its pid file; never while the file is being written', async t => {
  const dir = t.testdir({})
  const old = new Date(Date.now() - 60_000)
  await utimes(dir, old, old)
  t.equal(await isStale(dir), true, 'no pid file, older than 10 s')
  await writeFile(join(dir, 'pid'), '')
  await utimes(dir, old, old)
  t.equal(await isStale(dir), false, 'an empty pid file: a writer that truncates first is in the middle of it')
  await writeFile(join(dir, 'pid'), `${process.pid} 999999999`)
  t.equal(await isStale(dir), false, 'a holder alive')
  await writeFile(join(dir, 'pid'), '999999998 999999999')
  t.equal(await isStale(dir), true, 'every holder dead')
  const fresh = t.testdir({})
  t.equal(await isStale(fresh), false, 'no pid file yet, but just made')
})
