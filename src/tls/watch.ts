/**
 * The serving key pair read from PEM files and reloaded when they change. A Secret volume updates by
 * swapping a `..data` symlink, so the files' directories are watched (not the files) and also polled,
 * like controller-runtime's certwatcher. A new pair is used only once it parses, its key matches its
 * certificate and OpenSSL accepts it; anything else keeps the old pair and logs a warning.
 */
import type { X509Certificate } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Logger } from 'pino'
import { checkKeyPair, describeCertificate, type KeyPairSource } from './key-pair.js'
import type { KeyPair } from '../admission/types.js'

/** A file-backed source, which can also be told to re-read now (e.g. on SIGHUP). */
export interface WatchedKeyPair extends KeyPairSource {
  /** Re-reads the files; resolves true when that switched to a new pair. Never rejects. */
  reload(): Promise<boolean>
}

/** Options of `watchKeyPair`. */
export interface WatchKeyPairOptions {
  certFile: string
  keyFile: string
  logger: Logger
  /** How often to re-read the files whatever the watcher says; 0 turns polling off. Default 10 s. */
  pollIntervalMs?: number
  /** Watch the files' directories for changes. Default true. */
  watch?: boolean
  /** The clock for expiry warnings. */
  now?: () => Date
}

const DEFAULT_POLL_MS = 10_000
/** Coalesces the burst of events one update makes (e.g. `cp tls.crt; cp tls.key`) into one read. */
const SETTLE_MS = 100

/**
 * Reads the pair from `certFile` and `keyFile` (throwing, as `checkKeyPair` does, when it is missing or
 * unusable; an expired certificate is only a warning), then keeps it current: on a change in either
 * file's directory and every `pollIntervalMs`, re-reads both files and switches when the content
 * differs and passes `checkKeyPair`. Existing TLS connections are unaffected by a switch; listeners
 * decide what new handshakes use (`server.setSecureContext(tlsOptions(pair))`).
 */
export async function watchKeyPair (opts: WatchKeyPairOptions): Promise<WatchedKeyPair> {
  const files = new KeyPairFiles(opts.certFile, opts.keyFile)
  const pair = await files.read()
  const cert = checkKeyPair(pair, files.where)
  const source = new FileKeyPairSource(files, pair, opts)
  source.announce(cert, 'TLS key pair loaded')
  if (opts.watch ?? true) source.watch()
  source.poll(opts.pollIntervalMs ?? DEFAULT_POLL_MS)
  return source
}

/** The two files and how messages name them. */
class KeyPairFiles {
  readonly where: { cert: string, key: string }
  constructor (readonly certFile: string, readonly keyFile: string) {
    this.where = { cert: `file ${certFile}`, key: `file ${keyFile}` }
  }

  async read (): Promise<KeyPair> {
    return { cert: await readPem(this.certFile, 'certificate'), key: await readPem(this.keyFile, 'key') }
  }

  /** The directories to watch: a Secret volume swaps `..data` there, so the files' own inodes never change. */
  directories (): string[] {
    return [...new Set([this.certFile, this.keyFile].map(file => dirname(resolve(file))))]
  }
}

async function readPem (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    throw new Error(code === 'ENOENT' ? `TLS ${what} file ${path} does not exist` : `cannot read TLS ${what} file ${path}: ${message}`)
  }
}

class FileKeyPairSource implements WatchedKeyPair {
  private readonly listeners = new Set<(pair: KeyPair) => void>()
  private readonly watchers: FSWatcher[] = []
  private readonly logger: Logger
  private readonly now: () => Date
  private pollTimer: NodeJS.Timeout | undefined
  private settleTimer: NodeJS.Timeout | undefined
  private closed = false
  /** The last problem warned about, with the content that caused it, so a poll does not repeat it every time. */
  private lastProblem: string | undefined
  /** Reloads run one at a time; `queued` is the one not yet started, which later requests share. */
  private queued: Promise<boolean> | undefined
  private tail: Promise<unknown> = Promise.resolve()

  constructor (private readonly files: KeyPairFiles, private pair: KeyPair, opts: WatchKeyPairOptions) {
    this.logger = opts.logger
    this.now = opts.now ?? (() => new Date())
  }

  current (): KeyPair {
    return this.pair
  }

  onChange (listener: (pair: KeyPair) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  close (): void {
    this.closed = true
    clearInterval(this.pollTimer)
    clearTimeout(this.settleTimer)
    for (const watcher of this.watchers) watcher.close()
    this.listeners.clear()
  }

  reload (): Promise<boolean> {
    if (this.queued !== undefined) return this.queued
    const run = this.tail.then(() => {
      this.queued = undefined
      return this.readAndSwitch()
    })
    this.queued = run
    this.tail = run
    return run
  }

  watch (): void {
    const onEvent = (): void => {
      clearTimeout(this.settleTimer)
      this.settleTimer = setTimeout(() => { void this.reload() }, SETTLE_MS)
    }
    for (const dir of this.files.directories()) {
      const watcher = watchDirectory(dir, onEvent, this.logger)
      if (watcher !== undefined) this.watchers.push(watcher)
    }
  }

  poll (intervalMs: number): void {
    if (intervalMs > 0) this.pollTimer = setInterval(() => { void this.reload() }, intervalMs)
  }

  /** Logs the certificate now in use, and warns when it is outside its validity period. */
  announce (cert: X509Certificate, message: string): void {
    const certificate = describeCertificate(cert)
    this.logger.info({ certificate }, message)
    const now = this.now().getTime()
    if (now > Date.parse(cert.validTo)) this.logger.warn({ certificate }, 'TLS certificate has expired; serving it anyway')
    if (now < Date.parse(cert.validFrom)) this.logger.warn({ certificate }, 'TLS certificate is not valid yet; serving it anyway')
  }

  private async readAndSwitch (): Promise<boolean> {
    if (this.closed) return false
    let next: KeyPair | undefined
    try {
      next = await this.files.read()
      // Checked again after the read, so a close() while it was in flight still wins.
      if (this.closed || (next.cert === this.pair.cert && next.key === this.pair.key)) {
        this.lastProblem = undefined
        return false
      }
      const cert = checkKeyPair(next, this.files.where)
      this.pair = next
      this.lastProblem = undefined
      this.announce(cert, 'TLS key pair reloaded')
    } catch (err) {
      this.warnOnce(err as Error, next)
      return false
    }
    this.notify()
    return true
  }

  private warnOnce (err: Error, content: KeyPair | undefined): void {
    const problem = `${err.message}\0${content?.cert ?? ''}\0${content?.key ?? ''}`
    if (problem === this.lastProblem) return
    this.lastProblem = problem
    this.logger.warn({ err }, 'TLS key pair not reloaded; keeping the current one')
  }

  private notify (): void {
    for (const listener of this.listeners) {
      try {
        listener(this.pair)
      } catch (err) {
        this.logger.error({ err }, 'TLS key pair change listener failed')
      }
    }
  }
}

/** Watches one directory; when that is impossible, warns and returns undefined, since polling still catches every change. */
function watchDirectory (dir: string, onEvent: () => void, logger: Logger): FSWatcher | undefined {
  /* c8 ignore next -- called only when inotify fails (watch limit reached, directory gone), which a test cannot provoke */
  const fallBack = (err: unknown): void => { logger.warn({ err, dir }, 'cannot watch TLS directory; relying on polling') }
  try {
    return watch(dir, onEvent).on('error', fallBack)
  /* c8 ignore next 4 -- as above */
  } catch (err) {
    fallBack(err)
    return undefined
  }
}
