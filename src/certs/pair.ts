/**
 * The key pairs a run ends with: the stored ones where they can stay, new ones where not, and a
 * line for each saying which and why.
 */
import type { KeyPair } from '../admission/types.js'
import { day, parseCertificate, type CertificateInfo } from './pem.js'
import { createCa, issueServing } from './pki.js'
import { judgeCa, judgeServing, type Verdict, type Wanted } from './renewal.js'
import type { StoredPairs } from './directory.js'

/** The CA and serving pair to use, parsed, and whether each was made in this run. */
export interface DecidedPairs {
  readonly ca: KeyPair
  readonly caInfo: CertificateInfo
  readonly caNew: boolean
  readonly serving: KeyPair
  readonly servingInfo: CertificateInfo
  readonly servingNew: boolean
}

/** Options of `decidePairs`, besides what is wanted. */
export interface DecideOptions {
  /** The serving certificate's common name (the Service's `svc` name). */
  readonly commonName: string
  readonly now: Date
  readonly say: (line: string) => void
}

// Made just now by pki.ts, so they parse.
const info = (pair: KeyPair): CertificateInfo => parseCertificate(pair.cert) as CertificateInfo

function describe (what: string, verdict: Verdict, made: CertificateInfo): string {
  return verdict.keep
    ? `${what} ${made.subject}: kept, valid until ${day(made.notAfter)}, due for renewal from ${day(verdict.renewAt)}`
    : `${what} ${made.subject}: new, valid until ${day(made.notAfter)}, because ${verdict.reason}`
}

/** Keeps or makes the CA, then keeps or makes the serving certificate (always new with a new CA). */
export async function decidePairs (stored: StoredPairs, wanted: Wanted, opts: DecideOptions): Promise<DecidedPairs> {
  const { now, say } = opts
  const caVerdict = judgeCa(stored.ca, wanted, now)
  const ca = caVerdict.keep ? stored.ca! : await createCa({ validityMs: wanted.caValidityMs, now })
  const caInfo = caVerdict.keep ? caVerdict.cert : info(ca)
  say(describe('CA', caVerdict, caInfo))
  const servingVerdict: Verdict = caVerdict.keep
    ? judgeServing(stored.serving, caInfo, wanted, now)
    : { keep: false, reason: 'the CA is new' }
  const serving = servingVerdict.keep
    ? stored.serving!
    : await issueServing(ca, {
        commonName: opts.commonName,
        dnsNames: wanted.dnsNames,
        ipAddresses: wanted.ipAddresses,
        validityMs: wanted.validityMs,
        now
      })
  const servingInfo = servingVerdict.keep ? servingVerdict.cert : info(serving)
  say(describe('serving certificate', servingVerdict, servingInfo))
  return { ca, caInfo, caNew: !caVerdict.keep, serving, servingInfo, servingNew: !servingVerdict.keep }
}
