/**
 * Cross-process locks: the build lock, so that parallel test files that all need binaries run one
 * build and the others wait for it, and the node lock, since a machine holds one node at a time
 * (fixed ports, the `kubepods` cgroups, the bridge). `mkdir` is atomic; the holders' PIDs inside
 * let a waiter take over a lock whose holders all died.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRunning } from './processes.js'
import { isStaleLock } from './lock-stale.js'
import { lameduckDir } from './paths.js'

const buildLockDir = join(lameduckDir, 'build.lock')
/** Machine-wide, not per checkout: two clones cannot run two nodes either. */
export const nodeLockDir = '/run/lameduck-node.lock'

/**
 * Writes the holders' PIDs whole, by a rename: a reader never sees the file empty, as it could in
 * the middle of a write (and would then take a live lock for stale; seen when a node's state was
 * saved while another checkout's test waited for the lock).
 */
async function writeHolders (lockDir: string, pids: readonly number[]): Promise<void> {
  const temporary = join(lockDir, `pid.${process.pid}.${++writes}`)
  await writeFile(temporary, pids.join(' '))
  await rename(temporary, join(lockDir, 'pid'))
}
let writes = 0

/** Whether the lock in `lockDir` is stale (lock-stale.ts). */
async function isStale (lockDir: string): Promise<boolean> {
  const text = await readFile(join(lockDir, 'pid'), 'utf8')
    .catch((err: NodeJS.ErrnoException) => err.code === 'ENOENT' ? undefined : '')
  const made = (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
  return isStaleLock(text, Date.now() - made, isRunning)
}

async function tryLock (lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    if (await isStale(lockDir)) await rm(lockDir, { recursive: true, force: true })
    return false
  }
  await writeHolders(lockDir, [process.pid])
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
  const waiting = `[node] another node runs on this machine (${nodeLockDir}); waiting for it to stop`
  const release = await acquire(nodeLockDir, log, waiting)
  await writeNodeLockHolders(owner, [])
  return release
}

/**
 * Writes the node lock's holders: `owner` first, then the nodes' own processes and the janitor,
 * which outlive a detached `cluster:up` or a start whose process died; the lock is stale only once
 * all of them are gone.
 */
export async function writeNodeLockHolders (owner: number, pids: readonly number[]): Promise<void> {
  const [holder] = await nodeLockHolders()
  if (holder !== undefined && holder !== owner && holder !== process.pid) {
    throw new Error(`the node lock ${nodeLockDir} is held by PID ${holder}, not by this cluster's owner ${owner}`)
  }
  await writeHolders(nodeLockDir, [owner, ...pids])
}

/** The node lock's holders, the owner first; none when there is no lock. */
async function nodeLockHolders (): Promise<number[]> {
  return (await readFile(join(nodeLockDir, 'pid'), 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).map(Number)
}

/** Releases the node lock if `owner` holds it (never one another cluster took since). */
export async function releaseNodeLock (owner: number): Promise<void> {
  const holders = await nodeLockHolders()
  if (holders.length === 0 || holders[0] === owner) await rm(nodeLockDir, { recursive: true, force: true })
}
