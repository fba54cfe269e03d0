/**
 * Cross-process locks: the build lock, so that parallel test files that all need binaries run one
 * build and the others wait for it, and the node lock, since a machine holds one node at a time
 * (fixed ports, the `kubepods` cgroups, the bridge). `mkdir` is atomic; the holders' PIDs inside
 * let a waiter take over a lock whose holders all died.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRunning } from './processes.js'
import { lameduckDir } from './paths.js'

const buildLockDir = join(lameduckDir, 'build.lock')
/** Machine-wide, not per checkout: two clones cannot run two nodes either. */
export const nodeLockDir = '/run/lameduck-node.lock'

async function tryLock (lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const holders = (await readFile(join(lockDir, 'pid'), 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).map(Number)
    // A lock whose holders died is stale; so is one that never got its pid file (written right after mkdir).
    const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    const stale = holders.length > 0 ? !holders.some(isRunning) : age > 10_000
    if (stale) await rm(lockDir, { recursive: true, force: true })
    return false
  }
  await writeFile(join(lockDir, 'pid'), String(process.pid))
  return true
}

/** Waits for `lockDir`, saying so every 15 s; resolves with its release. */
async function acquire (lockDir: string, log: (line: string) => void, waiting: string): Promise<() => Promise<void>> {
  const started = Date.now()
  let lastNote = 0
  while (!await tryLock(lockDir)) {
    if (Date.now() - lastNote >= 15_000) {
      log(`${waiting} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
      lastNote = Date.now()
    }
    await sleep(500)
  }
  return () => rm(lockDir, { recursive: true, force: true })
}

/** Runs `fn` while holding the build lock, waiting (and saying so every 15 s) while another process holds it. */
export async function withBuildLock<T> (log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  await mkdir(lameduckDir, { recursive: true })
  const release = await acquire(buildLockDir, log, '[build] another process is building; waiting')
  try {
    return await fn()
  } finally {
    await release()
  }
}

/** Takes the machine's node lock for `owner`, waiting while another node runs; resolves with its release. */
export async function acquireNodeLock (log: (line: string) => void, owner = process.pid): Promise<() => Promise<void>> {
  const release = await acquire(nodeLockDir, log, `[node] another node runs on this machine (${nodeLockDir}); waiting for it to stop`)
  await writeNodeLockHolders(owner, [])
  return release
}

/**
 * Writes the node lock's holders: `owner` first, then the nodes' own processes and the janitor,
 * which outlive a detached `cluster:up` or a start whose process died; the lock is stale only once
 * all of them are gone.
 */
export async function writeNodeLockHolders (owner: number, pids: readonly number[]): Promise<void> {
  await writeFile(join(nodeLockDir, 'pid'), [owner, ...pids].join(' '))
}

/** Releases the node lock if `owner` holds it (never one another cluster took since). */
export async function releaseNodeLock (owner: number): Promise<void> {
  const holders = (await readFile(join(nodeLockDir, 'pid'), 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).map(Number)
  if (holders.length === 0 || holders[0] === owner) await rm(nodeLockDir, { recursive: true, force: true })
}
