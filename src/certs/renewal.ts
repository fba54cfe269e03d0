/**
 * Whether the stored CA and serving certificate can stay, or why each must be made anew. Pure: the
 * clock comes in as `now`. A CA that can stay keeps signing, so renewing only the serving
 * certificate never changes the caBundle.
 */
import { createPrivateKey } from 'node:crypto'
import type { KeyPair } from '../admission/types.js'
import { formatDuration } from '../admission/duration.js'
import { day, isSignedBy, parseCertificate, renewalTime, type CertificateInfo } from './pem.js'

/** What the user asked for. */
export interface Wanted {
  readonly dnsNames: readonly string[]
  readonly ipAddresses: readonly string[]
  /** Validity of a new serving certificate, in milliseconds. */
  readonly validityMs: number
  /** Validity of a new CA, in milliseconds. */
  readonly caValidityMs: number
  /** Renew the serving certificate now. */
  readonly force: boolean
  /** Make a new CA now (and so a new serving certificate). */
  readonly rotateCa: boolean
}

/** The verdict on one certificate: keep it (and until when), or why not. */
export type Verdict =
  | { readonly keep: true, readonly cert: CertificateInfo, readonly renewAt: Date }
  | { readonly keep: false, readonly reason: string }

const renew = (reason: string): Verdict => ({ keep: false, reason })

const DAY_MS = 86_400_000

/** `250-day` for whole days (every validity but a test's), else `1m30s`. */
export function validityText (ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}-day` : formatDuration(Math.round(ms / 1000))
}

/** Parses the pair and checks that its key belongs to its certificate and that it is valid at `now`. */
function usablePair (pair: KeyPair | undefined, what: string, now: Date): CertificateInfo | Verdict {
  if (pair === undefined) return renew(`no ${what} yet`)
  const cert = parseCertificate(pair.cert)
  if (cert instanceof Error) return renew(`the stored ${what} is ${cert.message}`)
  if (pair.key === '') return renew(`the stored ${what} has no private key`)
  let matches: boolean
  try {
    matches = cert.x509.checkPrivateKey(createPrivateKey(pair.key))
  } catch {
    return renew(`the stored ${what} key is not a PEM private key`)
  }
  if (!matches) return renew(`the stored ${what} key does not match its certificate`)
  if (now < cert.notBefore) return renew(`the stored ${what} is not valid before ${cert.notBefore.toISOString()}`)
  if (now >= cert.notAfter) return renew(`the stored ${what} expired on ${day(cert.notAfter)}`)
  return cert
}

/** When a CA is due: at two thirds of its validity, or once it would not outlive a serving certificate issued then. */
function caRenewalTime (ca: CertificateInfo, wanted: Pick<Wanted, 'validityMs'>): Date {
  return new Date(Math.min(renewalTime(ca).getTime(), ca.notAfter.getTime() - wanted.validityMs))
}

/** When a run would next renew something, for these two certificates: what an in-cluster renewer sleeps until. */
export function nextRenewal (ca: CertificateInfo, serving: CertificateInfo, wanted: Pick<Wanted, 'validityMs'>): Date {
  return new Date(Math.min(renewalTime(serving).getTime(), caRenewalTime(ca, wanted).getTime()))
}

const isVerdict = (value: CertificateInfo | Verdict): value is Verdict => 'keep' in value

/**
 * The CA stays while it is a CA, valid, has more than a third of its validity left, and outlives a
 * serving certificate issued now (so no certificate it signs outlasts it).
 */
export function judgeCa (ca: KeyPair | undefined, wanted: Wanted, now: Date): Verdict {
  const cert = usablePair(ca, 'CA', now)
  if (isVerdict(cert)) return cert
  if (!cert.x509.ca) return renew('the stored CA certificate is not a CA (basicConstraints)')
  if (wanted.rotateCa) return renew('--rotate-ca')
  if (now >= renewalTime(cert)) return renew(`less than a third of the CA's validity is left (it expires on ${day(cert.notAfter)})`)
  if (cert.notAfter.getTime() - now.getTime() < wanted.validityMs) {
    return renew(`the CA expires on ${day(cert.notAfter)}, before a ${validityText(wanted.validityMs)} serving certificate would`)
  }
  return { keep: true, cert, renewAt: caRenewalTime(cert, wanted) }
}

/**
 * The serving certificate stays while it is valid, signed by `ca`, names every wanted DNS name and
 * IP address, and
 * has more than a third of its validity left.
 */
export function judgeServing (serving: KeyPair | undefined, ca: CertificateInfo, wanted: Wanted, now: Date): Verdict {
  const cert = usablePair(serving, 'serving certificate', now)
  if (isVerdict(cert)) return cert
  if (!isSignedBy(cert, ca)) return renew(`the serving certificate is not signed by the CA ${ca.subject}`)
  const missing = [
    ...wanted.dnsNames.filter(name => cert.x509.checkHost(name, { wildcards: false, subject: 'never' }) !== name),
    ...wanted.ipAddresses.filter(ip => cert.x509.checkIP(ip) === undefined)
  ]
  if (missing.length > 0) return renew(`the serving certificate does not name ${missing.join(', ')}`)
  if (wanted.force) return renew('--force')
  const renewAt = renewalTime(cert)
  if (now >= renewAt) return renew(`less than a third of the serving certificate's validity is left (it expires on ${day(cert.notAfter)})`)
  return { keep: true, cert, renewAt }
}
