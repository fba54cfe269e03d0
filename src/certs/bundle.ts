/**
 * The webhook configuration's caBundle across a CA rotation. The API server must trust whatever
 * certificate any webhook replica serves, and replicas switch to a new key pair only when the
 * kubelet has refreshed their Secret volume (up to about two minutes) and the webhook has reloaded
 * it. So a new CA joins the bundle before any certificate it signed is served, and an old CA leaves
 * only when the current CA has been in the Secret for longer than the overlap. Pure.
 */
import { day, joinPem, parseCertificate, splitPem, type CertificateInfo } from './pem.js'

/** What to do with the caBundle. */
export interface BundlePlan {
  /** The bundle to write: the CAs that stay, in their order, then the current CA if it was missing. */
  readonly certificates: readonly CertificateInfo[]
  /** Some webhook's caBundle differs from `certificates`. */
  readonly changed: boolean
  /** The current CA was not trusted yet: the bundle must be written before the Secret. */
  readonly added: boolean
  /** What leaves the bundle, and why. */
  readonly dropped: readonly string[]
  /** Old CAs that stay may leave from this time on (run again then, or use --wait). */
  readonly pendingUntil: Date | undefined
}

/** Options of `planBundle`. */
export interface BundleOptions {
  /** Since when the current CA has been in the Secret (now, for a new CA). */
  readonly caSince: Date
  readonly overlapMs: number
  readonly now: Date
}

/**
 * The distinct certificates of every webhook's bundle, in order of first appearance; unparsable blocks are reported.
 */
function union (bundles: readonly string[], dropped: string[]): CertificateInfo[] {
  const seen = new Map<string, CertificateInfo>()
  for (const block of bundles.flatMap(splitPem)) {
    const cert = parseCertificate(block)
    if (cert instanceof Error) dropped.push(`an entry that is ${cert.message}`)
    else if (!seen.has(cert.fingerprint)) seen.set(cert.fingerprint, cert)
  }
  return [...seen.values()]
}

/** Plans the caBundle from the webhooks' current ones (`bundles`, PEM, one per webhook) and the current CA. */
export function planBundle (bundles: readonly string[], ca: CertificateInfo, opts: BundleOptions): BundlePlan {
  const dropped: string[] = []
  const existing = union(bundles, dropped)
  const until = new Date(opts.caSince.getTime() + opts.overlapMs)
  let pendingUntil: Date | undefined
  const kept = existing.filter(cert => {
    if (cert.fingerprint === ca.fingerprint) return true
    if (opts.now >= cert.notAfter) {
      dropped.push(`${cert.subject} (expired on ${day(cert.notAfter)})`)
      return false
    }
    if (opts.now >= until) {
      dropped.push(`${cert.subject} (replaced by ${ca.subject} since ${opts.caSince.toISOString()})`)
      return false
    }
    pendingUntil = until
    return true
  })
  const added = !kept.some(cert => cert.fingerprint === ca.fingerprint)
  const certificates = added ? [...kept, ca] : kept
  const text = joinPem(certificates)
  const changed = bundles.some(bundle => splitPem(bundle).join('') !== text)
  return { certificates, changed, added, dropped, pendingUntil }
}
