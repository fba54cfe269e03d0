/**
 * The certificates' expiry, visible (issue 17): `lameduck_certificate_expiry_timestamp_seconds` for
 * the serving certificate this process serves and for the CA next to it (`ca.crt` in the key pair's
 * directory, as a Secret volume of `lameduck certs` or cert-manager shows it, or in the Secret read
 * through the API server), the renewals done and
 * failed, and a warning in the log while either expires sooner than a threshold. Readiness is
 * deliberately left alone: a replica that serves an old certificate still answers, and failing
 * /readyz would only take away the replicas that could answer.
 */
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { KeyPair } from '../admission/types.js'
import type { KeyPairSource } from '../tls/key-pair.js'
import type { RenewalMetrics } from '../renew/renewer.js'

/** Which certificate a series is about. */
export type Certificate = 'serving' | 'ca'

/** The expiry gauges and renewal counters, in `registry`. */
export interface CertificateMetrics extends RenewalMetrics {
  /** Records when `certificate` expires. */
  expires(certificate: Certificate, at: Date): void
}

/** Registers the certificate metrics in `registry`. */
export function createCertificateMetrics (registry: Registry): CertificateMetrics {
  const registers = [registry]
  const expiry = new Gauge({ name: 'lameduck_certificate_expiry_timestamp_seconds', help: 'When the certificate this replica serves (serving) and its CA (ca) expire, in Unix seconds', labelNames: ['certificate'], registers })
  const renewals = new Counter({ name: 'lameduck_certificate_renewals_total', help: 'Certificates renewed in the cluster by this replica (--renew-certs), by certificate', labelNames: ['certificate'], registers })
  const failures = new Counter({ name: 'lameduck_certificate_renewal_failures_total', help: 'Renewal runs that failed (--renew-certs); each is retried with backoff', registers })
  for (const certificate of ['serving', 'ca']) renewals.inc({ certificate }, 0)
  return {
    expires: (certificate, at) => { expiry.set({ certificate }, Math.floor(at.getTime() / 1000)) },
    renewed: certificate => { renewals.inc({ certificate }) },
    renewalFailed: () => { failures.inc() }
  }
}

/** Options of `watchCertificateExpiry`. */
export interface ExpiryWatchOptions {
  readonly tls: KeyPairSource
  /** The serving certificate's file: its directory's `ca.crt` is the CA; undefined for --self-signed. */
  readonly certFile: string | undefined
  /** Instead of `tls` and `certFile`: the pair served (undefined while a placeholder is) and its CAs (--tls-secret). */
  readonly served?: () => { readonly pair: KeyPair, readonly ca: string | undefined } | undefined
  readonly metrics: CertificateMetrics
  readonly logger: Logger
  /** Warn while a certificate expires sooner than this. */
  readonly warnWithinMs: number
  readonly now: () => Date
  /** How often to look again for the warning. Default an hour. */
  readonly intervalMs?: number
}

/** The CA certificates of a `ca.crt` (a bundle may hold several); none when there is none, or it does not parse. */
function parseCas (text: string | undefined): X509Certificate[] {
  try {
    const blocks = (text ?? '').matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)
    return [...blocks].map(match => new X509Certificate(match[0]))
  } catch {
    return []
  }
}

/** The pair of `tls` and the `ca.crt` next to `certFile`, when there is one. */
async function servedFromFiles (tls: KeyPairSource, certFile: string | undefined):
Promise<{ pair: KeyPair, ca: string | undefined }> {
  const file = certFile === undefined ? undefined : join(dirname(certFile), 'ca.crt')
  const ca = file === undefined ? undefined : await readFile(file, 'utf8').catch(() => undefined)
  return { pair: tls.current(), ca }
}

/**
 * Keeps the expiry gauges current with the pair served (at start and after each reload) and warns
 * while one expires within `warnWithinMs`. Returns a function that stops it.
 */
export function watchCertificateExpiry (opts: ExpiryWatchOptions): { ready: Promise<void>, close: () => void } {
  const known = new Map<Certificate, Date>()
  const warn = (): void => {
    for (const [certificate, at] of known) {
      const left = at.getTime() - opts.now().getTime()
      if (left < opts.warnWithinMs) opts.logger.warn({ certificate, expires: at.toISOString(), hoursLeft: Math.floor(left / 3_600_000) }, 'TLS certificate expires soon: check the renewal (lameduck serve --renew-certs, lameduck certs --apply or cert-manager)')
    }
  }
  const load = async (): Promise<void> => {
    const served = opts.served === undefined ? await servedFromFiles(opts.tls, opts.certFile) : opts.served()
    if (served === undefined) return
    const serving = new X509Certificate(served.pair.cert)
    known.set('serving', new Date(serving.validTo))
    const cas = parseCas(served.ca)
    // The CA that signed what is served; a bundle's other CAs are on their way in or out.
    const issuer = cas.find(ca => serving.checkIssued(ca)) ?? cas[0]
    if (issuer !== undefined) known.set('ca', new Date(issuer.validTo))
    for (const [certificate, at] of known) opts.metrics.expires(certificate, at)
    warn()
  }
  const unsubscribe = opts.tls.onChange(() => { void load() })
  const timer = setInterval(warn, opts.intervalMs ?? 3_600_000)
  timer.unref()
  return {
    ready: load(),
    close: () => { unsubscribe(); clearInterval(timer) }
  }
}
