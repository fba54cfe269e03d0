/**
 * Reading certificates for the certificate code: PEM bundles split into certificates, and the dates a
 * renewal decision needs. Pure; node:crypto's X509Certificate does the parsing.
 */
import { X509Certificate, createHash } from 'node:crypto'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/** What the script says about a certificate, and decides from. */
export interface CertificateInfo {
  readonly x509: X509Certificate
  /** The certificate as one PEM block ending in a newline. */
  readonly pem: string
  readonly subject: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** SHA-256 of the DER, to tell certificates apart in a bundle. */
  readonly fingerprint: string
}

/** The PEM CERTIFICATE blocks of `text`, in order, each ending in a newline; anything between them is ignored. */
export function splitPem (text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map(match => `${match[0]}\n`)
}

/** Joins certificates into one PEM bundle (what caBundle and ca.crt hold). */
export function joinPem (certificates: readonly CertificateInfo[]): string {
  return certificates.map(cert => cert.pem).join('')
}

/** Parses one PEM certificate; an Error (not a throw) says what is wrong, for a renewal reason. */
export function parseCertificate (pem: string): CertificateInfo | Error {
  const blocks = splitPem(pem)
  if (blocks.length === 0) return new Error('not a PEM certificate')
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(blocks[0]!)
  } catch (err) {
    return new Error(`not a valid certificate (${(err as Error).message})`)
  }
  return {
    x509,
    pem: blocks[0]!,
    subject: x509.subject.replaceAll('\n', ', '),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint: createHash('sha256').update(x509.raw).digest('hex')
  }
}

/** Whether `ca` signed `cert`: issuer name and signature. */
export function isSignedBy (cert: CertificateInfo, ca: CertificateInfo): boolean {
  return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.x509.publicKey)
}

/**
 * When a certificate is due for renewal: once less than a third of its validity is left (what
 * cert-manager does by default), so a renewal that fails has the remaining third to be retried.
 */
export function renewalTime (cert: Pick<CertificateInfo, 'notBefore' | 'notAfter'>): Date {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime()
  return new Date(cert.notBefore.getTime() + Math.round(lifetime * 2 / 3))
}

/** `2026-11-22` style date for messages: days matter here, not seconds. */
export function day (date: Date): string {
  return date.toISOString().slice(0, 10)
}
