/**
 * The serving key pair read from PEM files and reloaded when they change (src/common/watched-files.ts:
 * watched and polled, like controller-runtime's certwatcher). A new pair is used only once it
 * parses, its key matches its certificate and OpenSSL accepts it; anything else keeps the old pair
 * and logs a warning.
 */
import type { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { watchFiles } from '../common/watched-files.js'
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
const WHAT = ['certificate', 'key']

async function readPem (path: string, index: number): Promise<string> {
  const what = WHAT[index]!
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    throw new Error(code === 'ENOENT' ? `TLS ${what} file ${path} does not exist` : `cannot read TLS ${what} file ${path}: ${message}`)
  }
}

/**
 * Reads the pair from `certFile` and `keyFile` (throwing, as `checkKeyPair` does, when it is missing or
 * unusable; an expired certificate is only a warning), then keeps it current: on a change in either
 * file's directory and every `pollIntervalMs`, re-reads both files and switches when the content
 * differs and passes `checkKeyPair`. Existing TLS connections are unaffected by a switch; listeners
 * decide what new handshakes use (`server.setSecureContext(tlsOptions(pair))`).
 */
export async function watchKeyPair (opts: WatchKeyPairOptions): Promise<WatchedKeyPair> {
  const { logger } = opts
  const now = opts.now ?? (() => new Date())
  const where = { cert: `file ${opts.certFile}`, key: `file ${opts.keyFile}` }
  const listeners = new Set<(pair: KeyPair) => void>()

  /** Logs the certificate now in use, and warns when it is outside its validity period. */
  function announce (cert: X509Certificate, message: string): void {
    const certificate = describeCertificate(cert)
    logger.info({ certificate }, message)
    const time = now().getTime()
    if (time > Date.parse(cert.validTo)) logger.warn({ certificate }, 'TLS certificate has expired; serving it anyway')
    if (time < Date.parse(cert.validFrom)) logger.warn({ certificate }, 'TLS certificate is not valid yet; serving it anyway')
  }

  function notify (pair: KeyPair): void {
    for (const listener of listeners) {
      try {
        listener(pair)
      } catch (err) {
        logger.error({ err }, 'TLS key pair change listener failed')
      }
    }
  }

  const files = await watchFiles({
    paths: [opts.certFile, opts.keyFile],
    read: readPem,
    parse: ([cert, key]) => {
      const pair = { cert: cert!, key: key! }
      return { pair, cert: checkKeyPair(pair, where) }
    },
    what: 'TLS key pair',
    logger,
    pollIntervalMs: opts.pollIntervalMs ?? DEFAULT_POLL_MS,
    ...(opts.watch === false ? { watch: false } : {}),
    onChange: ({ pair, cert }) => {
      announce(cert, 'TLS key pair reloaded')
      notify(pair)
    }
  })
  announce(files.current().cert, 'TLS key pair loaded')
  return {
    current: () => files.current().pair,
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    close () {
      listeners.clear()
      void files.close()
    },
    reload: files.reload
  }
}
