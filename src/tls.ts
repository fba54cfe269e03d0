/**
 * The serving key pair (DESIGN.md, "Wire behaviour"): read from PEM files and reloaded when they change,
 * or generated in memory for `--self-signed`. A Secret volume updates by swapping a `..data` symlink, so
 * the files' directories are watched (not the files) and also polled, like controller-runtime's
 * certwatcher. A new pair is used only once it parses, its key matches its certificate and OpenSSL
 * accepts it; anything else keeps the old pair and logs a warning.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import type { Logger } from 'pino'
import { generate } from 'selfsigned'
import type { KeyPair } from './types.js'

/** Where a key pair comes from, as provider of the current pair and of change events. */
export interface KeyPairSource {
  /** The pair in use; always one that passed `checkKeyPair`. */
  current(): KeyPair
  /** Calls `listener` with each new pair after a switch; returns a function that unsubscribes. */
  onChange(listener: (pair: KeyPair) => void): () => void
  /** Stops watchers and timers; afterwards the pair never changes. */
  close(): void
}

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

/** What a certificate is, for log lines. */
export interface CertificateSummary {
  subject: string
  subjectAltName: string | undefined
  validFrom: string
  validTo: string
  fingerprint256: string
}

const DEFAULT_POLL_MS = 10_000
/** Coalesces the burst of events one update makes (e.g. `cp tls.crt; cp tls.key`) into one read. */
const SETTLE_MS = 100
/** Backdating, so a client whose clock is a little behind still accepts a fresh self-signed pair. */
const BACKDATE_MS = 5 * 60_000

/**
 * An in-memory EC P-256 pair signed with SHA-256 (selfsigned defaults to RSA and SHA-1), for local use.
 * SANs: DNS `localhost` plus `dnsNames`, IP 127.0.0.1 and ::1 — Go clients ignore the common name.
 */
export async function createSelfSignedKeyPair (opts: { dnsNames?: string[], days?: number } = {}): Promise<KeyPair> {
  const dnsNames = [...new Set(['localhost', ...(opts.dnsNames ?? [])])]
  const notBeforeDate = new Date(Date.now() - BACKDATE_MS)
  const notAfterDate = new Date(notBeforeDate.getTime() + BACKDATE_MS + (opts.days ?? 365) * 86_400_000)
  const pems = await generate([{ name: 'commonName', value: opts.dnsNames?.[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dnsNames.map(value => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] }
    ]
  })
  // selfsigned ends the certificate without a newline, which breaks `cat cert ca > chain`.
  return { key: withNewline(pems.private), cert: withNewline(pems.cert) }
}

function withNewline (pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`
}

/**
 * Checks that a pair can serve TLS: the certificate and key parse, the key matches the certificate and
 * OpenSSL builds a context from them (which also catches a broken chain or a too-weak key). Throws an
 * Error naming where each part came from (`where`, e.g. `file /tls/tls.crt`) and what is wrong.
 */
export function checkKeyPair (pair: KeyPair, where = { cert: '(in memory)', key: '(in memory)' }): X509Certificate {
  const cert = attempt(() => new X509Certificate(pair.cert), `TLS certificate ${where.cert}: not a PEM certificate`)
  const key = attempt(() => createPrivateKey(pair.key), `TLS key ${where.key}: not a PEM private key`)
  if (!cert.checkPrivateKey(key)) throw new Error(`TLS key ${where.key} does not match certificate ${where.cert}`)
  attempt(() => createSecureContext(tlsOptions(pair)), `TLS certificate ${where.cert} with key ${where.key}: unusable`)
  return cert
}

function attempt<T> (fn: () => T, problem: string): T {
  try {
    return fn()
  } catch (err) {
    throw new Error(`${problem} (${(err as Error).message})`)
  }
}

/** Subject, SANs, validity and SHA-256 fingerprint of a certificate, for logs. */
export function describeCertificate (cert: X509Certificate): CertificateSummary {
  const { subject, subjectAltName, validFrom, validTo, fingerprint256 } = cert
  return { subject, subjectAltName, validFrom, validTo, fingerprint256 }
}

/** Options for `https.createServer` / `setSecureContext`: the pair, TLS 1.2 or newer (DESIGN.md). */
export function tlsOptions (pair: KeyPair): { key: string, cert: string, minVersion: 'TLSv1.2' } {
  return { key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2' }
}

/** A fixed pair (for `--self-signed`) behind the same interface; throws if the pair is unusable. */
export function staticKeyPair (pair: KeyPair): KeyPairSource {
  checkKeyPair(pair)
  return { current: () => pair, onChange: () => () => undefined, close: () => undefined }
}

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
