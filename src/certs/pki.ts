/**
 * The webhook's private PKI: an EC P-256 CA and serving certificates it signs, all with SHA-256.
 *
 * Made with selfsigned 5 (already a dependency; its `ca` option signs with a given CA key through
 * @peculiar/x509), so no second X.509 library is declared. It writes no key identifiers, which
 * neither Go (the API server) nor OpenSSL needs: they chain by issuer name and signature. Each CA
 * gets a name of its own (`lameduck-ca@<unix seconds>`, as client-go names its self-signed CAs), so
 * the old and the new CA in a caBundle during a rotation are told apart by name too.
 */
import { generate } from 'selfsigned'
import type { KeyPair } from '../admission/types.js'

/**
 * Backdating, so that a client whose clock is a little behind accepts a certificate made just now;
 * at most a tenth of the validity, so that a certificate of minutes (tests) is not mostly past.
 */
export const BACKDATE_MS = 5 * 60_000

/** The names the API server may use for a Service: it dials `svc.ns.svc` with that SNI; Go ignores the common name. */
export function serviceDnsNames (service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`]
}

function validity (now: Date, validityMs: number): { notBeforeDate: Date, notAfterDate: Date } {
  const backdate = Math.min(BACKDATE_MS, Math.floor(validityMs / 10))
  return { notBeforeDate: new Date(now.getTime() - backdate), notAfterDate: new Date(now.getTime() + validityMs) }
}

// selfsigned may end a PEM without a newline, which breaks `cat a.crt b.crt > bundle`.
const withNewline = (pem: string): string => pem.endsWith('\n') ? pem : `${pem}\n`

/** A new CA valid for `validityMs` from `now`: may sign certificates, and nothing but end-entity ones. */
export async function createCa (opts: { validityMs: number, now: Date }): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: `lameduck-ca@${Math.floor(opts.now.getTime() / 1000)}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ...validity(opts.now, opts.validityMs),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    ]
  })
  return { cert: withNewline(pems.cert), key: withNewline(pems.private) }
}

/** A serving certificate for `dnsNames` and `ipAddresses`, signed by `ca`; the common name is for people reading it. */
export async function issueServing (
  ca: KeyPair,
  opts: {
    commonName: string
    dnsNames: readonly string[]
    ipAddresses?: readonly string[]
    validityMs: number
    now: Date
  }
): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: opts.commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { cert: ca.cert, key: ca.key },
    ...validity(opts.now, opts.validityMs),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...opts.dnsNames.map(value => ({ type: 2 as const, value })),
          ...(opts.ipAddresses ?? []).map(ip => ({ type: 7 as const, ip }))
        ]
      }
    ]
  })
  return { cert: withNewline(pems.cert), key: withNewline(pems.private) }
}
