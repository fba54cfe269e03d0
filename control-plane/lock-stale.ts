/**
 * When a lock is stale, from what its directory holds: pure, so that the rule is tested on its own.
 * Stale: every holder is dead, or the pid file never came (it is written right after mkdir) and the
 * lock is older than 10 s. A pid file that reads empty is being written by a writer that truncates
 * first (older checkouts write it in place): not stale, or a live lock would be taken away.
 */

/** `pidFile` is the file's text, or undefined when there is none; `ageMs` is the lock directory's. */
export function isStaleLock (pidFile: string | undefined, ageMs: number, alive: (pid: number) => boolean): boolean {
  if (pidFile === undefined) return ageMs > 10_000
  const holders = pidFile.split(/\s+/).filter(Boolean).map(Number)
  return holders.length > 0 && !holders.some(alive)
}
