/**
 * The key pairs as Secrets: the serving Secret the webhook serves from (tls.crt, tls.key, and
 * ca.crt for clients; `kubernetes.io/tls` when this code creates it, the type an existing one has
 * otherwise), and a second Secret with the CA's key, which only the certificate code reads — the
 * webhook never serves from it. Pure mapping, plus reading both.
 */
import type { KeyPair } from '../admission/types.js'
import { PREFIX } from '../admission/keys.js'
import type { ClusterApi, SecretContent } from './cluster-api.js'
import type { StoredPairs } from './directory.js'

/** On the serving Secret: since when its certificates have been signed by the current CA (ISO 8601). */
export const CA_SINCE_ANNOTATION = `${PREFIX}ca-since`
const TLS = 'kubernetes.io/tls'

/** The two Secrets' names and namespace. */
export interface SecretNames {
  readonly namespace: string
  readonly secret: string
  readonly caSecret: string
}

/** What the Secrets hold: the pairs, when the CA took over, and the raw content to compare against. */
export interface StoredSecrets extends StoredPairs {
  readonly caSince: Date | undefined
  readonly servingSecret: SecretContent | undefined
  readonly caSecretContent: SecretContent | undefined
}

/** The pair under `certKey` and `keyKey`; none for a Secret shipped empty (no data, or empty values). */
function pairOf (secret: SecretContent | undefined, certKey: string, keyKey: string): KeyPair | undefined {
  const cert = secret?.data[certKey]
  return cert === undefined || cert === '' ? undefined : { cert, key: secret!.data[keyKey] ?? '' }
}

/**
 * Reads both Secrets. Without the CA Secret, the serving Secret's ca.crt (from another tool) is
 * the CA without a key, which the renewal replaces.
 */
export async function readSecrets (api: ClusterApi, names: SecretNames): Promise<StoredSecrets> {
  const servingSecret = await api.readSecret(names.namespace, names.secret)
  const caSecretContent = await api.readSecret(names.namespace, names.caSecret)
  const since = servingSecret?.annotations[CA_SINCE_ANNOTATION]
  const caSince = since === undefined || Number.isNaN(Date.parse(since)) ? undefined : new Date(since)
  return {
    serving: pairOf(servingSecret, 'tls.crt', 'tls.key'),
    ca: pairOf(caSecretContent, 'tls.crt', 'tls.key') ?? pairOf(servingSecret, 'ca.crt', 'ca.key'),
    caSince,
    servingSecret,
    caSecretContent
  }
}

/** The serving Secret for `serving`, with `ca` as ca.crt. */
export function servingSecretFor (serving: KeyPair, ca: KeyPair, caSince: Date): SecretContent {
  return { type: TLS, data: { 'tls.crt': serving.cert, 'tls.key': serving.key, 'ca.crt': ca.cert }, annotations: { [CA_SINCE_ANNOTATION]: caSince.toISOString() } }
}

/** The CA Secret. */
export function caSecretFor (ca: KeyPair): SecretContent {
  return { type: TLS, data: { 'tls.crt': ca.cert, 'tls.key': ca.key }, annotations: {} }
}

/**
 * Whether `stored` already holds `wanted`'s data and annotations (other keys and annotations may
 * differ, and so may the type: the chart ships the Secrets empty, as Opaque, which stays).
 */
export function holds (stored: SecretContent | undefined, wanted: SecretContent): boolean {
  if (stored === undefined) return false
  const same = (want: Readonly<Record<string, string>>, have: Readonly<Record<string, string>>): boolean =>
    Object.entries(want).every(([key, value]) => have[key] === value)
  return same(wanted.data, stored.data) && same(wanted.annotations, stored.annotations)
}
