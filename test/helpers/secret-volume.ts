/**
 * What the kubelet does for a Secret volume, for tests without a kubelet: it reads the Secret and
 * writes its keys into a directory the way the kubelet's AtomicWriter does (the files are symlinks
 * into `..data`, itself a symlink to a timestamped directory that is swapped in one rename), so a
 * reader never sees half an update and `lameduck serve`'s watcher meets the real layout. `lagMs`
 * stands for the kubelet's sync period: each change reaches the directory that much later.
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One Secret's data (decoded), as read from the API server; undefined while it does not exist. */
export type ReadSecret = () => Promise<Record<string, string> | undefined>

/** A projected Secret volume kept in sync with the Secret. */
export interface SecretVolume {
  readonly dir: string
  /** Writes what the Secret holds now, at once (the volume as a Pod starts with it). */
  syncNow(): Promise<void>
  stop(): void
}

let generation = 0

/** Writes `data` into `dir` as the kubelet would: new timestamped directory, `..data` swapped, one symlink per key. */
export async function writeAtomically (dir: string, data: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true })
  const version = `..${new Date().toISOString().replaceAll(':', '_')}.${process.pid}.${generation++}`
  await mkdir(join(dir, version), { mode: 0o755 })
  for (const [key, value] of Object.entries(data)) await writeFile(join(dir, version, key), value, { mode: 0o640 })
  const old = await readlink(join(dir, '..data')).catch(() => undefined)
  await symlink(version, join(dir, '..data_tmp'))
  await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  for (const key of Object.keys(data)) await symlink(join('..data', key), join(dir, key)).catch(() => undefined)
  if (old !== undefined) await rm(join(dir, old), { recursive: true, force: true })
}

/** Polls `read` every `pollMs` and writes each new content into `dir`, `lagMs` after it was seen. */
export function secretVolume (dir: string, read: ReadSecret, opts: { lagMs: number, pollMs?: number }): SecretVolume {
  let last = ''
  let stopped = false
  let chain: Promise<void> = Promise.resolve()
  const timers = new Set<NodeJS.Timeout>()
  const apply = (data: Record<string, string>): void => {
    chain = chain.then(async () => { if (!stopped) await writeAtomically(dir, data) })
  }
  const poll = async (): Promise<void> => {
    const data = await read().catch(() => undefined)
    const text = JSON.stringify(data ?? null)
    if (data === undefined || text === last) return
    last = text
    const timer = setTimeout(() => { timers.delete(timer); apply(data) }, opts.lagMs)
    timers.add(timer)
  }
  const interval = setInterval(() => { void poll() }, opts.pollMs ?? 500)
  return {
    dir,
    async syncNow () {
      const data = await read()
      if (data === undefined) throw new Error(`the Secret for ${dir} does not exist`)
      last = JSON.stringify(data)
      apply(data)
      await chain
    },
    stop () {
      stopped = true
      clearInterval(interval)
      for (const timer of timers) clearTimeout(timer)
    }
  }
}
