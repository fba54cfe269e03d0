import t from 'tap'
import { isStaleLock } from '../../../control-plane/lock-stale.js'

t.test('a lock is stale when its holders died, or when it never got its pid file; never while the file is being written', async t => {
  const alive = (pid: number): boolean => pid === 42
  t.equal(isStaleLock(undefined, 60_000, alive), true, 'no pid file, older than 10 s')
  t.equal(isStaleLock(undefined, 2_000, alive), false, 'no pid file yet, but just made')
  t.equal(isStaleLock('', 60_000, alive), false, 'an empty pid file: a writer that truncates first is in the middle of it')
  t.equal(isStaleLock('42 7', 60_000, alive), false, 'a holder alive')
  t.equal(isStaleLock('7 8\n', 60_000, alive), true, 'every holder dead')
})
