/**
 * The serving key pair (docs/configuration.md, on the wire): what a usable pair is, an in-memory one for
 * `--self-signed`, and the TLS options the server takes. Pairs read from files and reloaded when they
 * change are watch.ts's concern.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import type { KeyPair } from '../admission/types.js'

/** Where a key pair comes from, as provider of the current pair and of change events. */
export interface KeyPairSource {
  /** The pair in use; always one that passed `checkKeyPair`. */
  current(): KeyPair
  /** Calls `listener` with each new pair after a switch; returns a function that unsubscribes. */
  onChange(listener: (pair: KeyPair) => void): () => void
  /** Stops watchers and timers; afterwards the pair never changes. */
  close(): void
}

/** What a certificate is, for log lines. */
export interface CertificateSummary {
  subject: string
  subjectAltName: string | undefined
  validFrom: string
  validTo: string
  fingerprint256: string
}

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
  // Loaded only when asked for: selfsigned and its X.509 code add ~16 MB to RSS, and a Deployment serves files.
  const { generate } = await import('selfsigned')
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

/** Options for `https.createServer` / `setSecureContext`: the pair, TLS 1.2 or newer. */
export function tlsOptions (pair: KeyPair): { key: string, cert: string, minVersion: 'TLSv1.2' } {
  return { key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2' }
}

/** A fixed pair (for `--self-signed`) behind the same interface; throws if the pair is unusable. */
export function staticKeyPair (pair: KeyPair): KeyPairSource {
  checkKeyPair(pair)
  return { current: () => pair, onChange: () => () => undefined, close: () => undefined }
}
