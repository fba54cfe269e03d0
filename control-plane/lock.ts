/**
 * A cross-process lock for the build, so that parallel test files that all need binaries run one
 * build and the others wait for it. `mkdir` is atomic; the holder's PID inside lets a waiter take
 * over a lock whose holder died.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRunning } from './processes.js'
import { lameduckDir } from './paths.js'

const lockDir = join(lameduckDir, 'build.lock')

async function tryLock (): Promise<boolean> {
  await mkdir(lameduckDir, { recursive: true })
  try {
    await mkdir(lockDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const holder = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'))
    // A lock whose holder died is stale; so is one that never got its pid file (written right after mkdir).
    const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    const stale = Number.isInteger(holder) && holder > 0 ? !isRunning(holder) : age > 10_000
    if (stale) await rm(lockDir, { recursive: true, force: true })
    return false
  }
  await writeFile(join(lockDir, 'pid'), String(process.pid))
  return true
}

/** Runs `fn` while holding the build lock, waiting (and saying so every 15 s) while another process holds it. */
export async function withBuildLock<T> (log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const started = Date.now()
  let lastNote = 0
  while (!await tryLock()) {
    if (Date.now() - lastNote >= 15_000) {
      log(`[build] another process is building; waiting (${((Date.now() - started) / 1000).toFixed(0)} s)`)
      lastNote = Date.now()
    }
    await sleep(500)
  }
  try {
    return await fn()
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}
