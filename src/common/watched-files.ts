/**
 * Files a server keeps reading while it runs (the TLS key pair, the namespaces file), like
 * controller-runtime's certwatcher: the files' directories are watched, since a Secret or ConfigMap
 * volume updates by swapping a `..data` symlink there and the files' own inodes never change, and
 * they are polled as well, since a watch can miss events or fail. Reloads run one at a time; a new
 * version is used only once it parses, otherwise the last good one is kept and the problem warned
 * about once (again only after a good read).
 */
import { watch as fsWatch } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Logger } from 'pino'

/** Watches a directory: `onChange` on any entry changing, `onError` if watching fails later. */
export type WatchDirectory = (dir: string, onChange: () => void, onError: (err: Error) => void) => { close(): void }

/** Options of `watchFiles`. */
export interface WatchFilesOptions<T> {
  readonly paths: readonly string[]
  /** Reads one file; rejects with an Error that names it. */
  readonly read: (path: string, index: number) => Promise<string>
  /** The value of the files' contents (one string per path); throws an Error saying what is wrong. */
  readonly parse: (contents: readonly string[]) => T
  /** What the files are, for log lines: "TLS key pair", "namespaces file". */
  readonly what: string
  readonly logger: Logger
  /** How often to re-read whatever the watcher says; 0 turns polling off. */
  readonly pollIntervalMs: number
  /** fs.watch on each directory by default; false turns watching off; tests pass one that fails. */
  readonly watch?: WatchDirectory | false
  /** Called with each new value after the first. */
  readonly onChange?: (value: T) => void
  /** Called when a new problem kept the last good value (after its warning is logged). */
  readonly onProblem?: (err: Error) => void
}

/** The last good value of the files, kept current until `close()`. */
export interface WatchedFiles<T> {
  current(): T
  /** Re-reads the files now; resolves true when that switched to a new value. Never rejects. */
  reload(): Promise<boolean>
  /** Stops watching and polling; resolves once a reload in flight has finished. */
  close(): Promise<void>
}

/** Coalesces the burst of events one update makes (e.g. `cp tls.crt; cp tls.key`) into one read. */
const SETTLE_MS = 100

const fsWatchDirectory: WatchDirectory = (dir, onChange, onError) => fsWatch(dir, onChange).on('error', onError)

const sameContents = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a !== undefined && a.length === b.length && a.every((text, i) => text === b[i])

/** Reads and parses the files (rejecting as `read` or `parse` throws), then keeps them current. */
export async function watchFiles<T> (opts: WatchFilesOptions<T>): Promise<WatchedFiles<T>> {
  const { paths, read, parse, what, logger } = opts
  const readAll = async (): Promise<string[]> => await Promise.all(paths.map(read))
  let good = await readAll()
  let value = parse(good)
  /** The contents last read, good or bad, so that a bad version is parsed (and warned about) once. */
  let seen: readonly string[] | undefined = good
  let lastProblem: string | undefined
  let closed = false
  /** Reloads run one at a time; `queued` is the one not yet started, which later requests share. */
  let queued: Promise<boolean> | undefined
  let tail: Promise<unknown> = Promise.resolve()

  function warnOnce (err: Error, contents: readonly string[] | undefined): void {
    const problem = [err.message, ...contents ?? []].join('\0')
    if (problem === lastProblem) return
    lastProblem = problem
    logger.warn({ err, paths }, `${what} not reloaded; keeping the last good version`)
    opts.onProblem?.(err)
  }

  async function readAndSwitch (): Promise<boolean> {
    let contents: string[]
    try {
      contents = await readAll()
    } catch (err) {
      seen = undefined // so the files are parsed again once they are back, even unchanged
      warnOnce(err as Error, undefined)
      return false
    }
    // Checked after the read, so a close() while it was in flight still wins.
    if (closed || sameContents(seen, contents)) return false
    seen = contents
    if (sameContents(good, contents)) {
      lastProblem = undefined
      return false
    }
    try {
      value = parse(contents)
    } catch (err) {
      warnOnce(err as Error, contents)
      return false
    }
    good = contents
    lastProblem = undefined
    opts.onChange?.(value)
    return true
  }

  function reload (): Promise<boolean> {
    if (closed) return Promise.resolve(false)
    if (queued !== undefined) return queued
    const run = tail.then(async () => {
      queued = undefined
      return await readAndSwitch()
    })
    queued = run
    tail = run
    return run
  }

  let settle: NodeJS.Timeout | undefined
  const onEvent = (): void => {
    clearTimeout(settle)
    if (!closed) settle = setTimeout(() => { void reload() }, SETTLE_MS)
  }
  const watchers = new Set<{ close(): void }>()
  const watchDirectory = opts.watch === false ? undefined : opts.watch ?? fsWatchDirectory
  const directories = new Set(paths.map(path => dirname(resolve(path))))
  for (const dir of watchDirectory === undefined ? [] : directories) {
    const pollOnly = (err: unknown): void => { logger.warn({ err, dir }, `cannot watch ${dir}; polling the ${what} only`) }
    try {
      const watcher = watchDirectory!(dir, onEvent, err => { pollOnly(err); watcher.close(); watchers.delete(watcher) })
      watchers.add(watcher)
    } catch (err) {
      pollOnly(err)
    }
  }
  const poll = opts.pollIntervalMs > 0 ? setInterval(() => { void reload() }, opts.pollIntervalMs) : undefined

  return {
    current: () => value,
    reload,
    async close () {
      closed = true
      clearInterval(poll)
      clearTimeout(settle)
      for (const watcher of watchers) watcher.close()
      watchers.clear()
      await tail
    }
  }
}
