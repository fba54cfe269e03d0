/**
 * The serving key pair read from a Secret through the API server (`serve --tls-secret NAME`), as
 * Gatekeeper's and Kyverno's webhooks read theirs: a watch of that one Secret, so that a pair the
 * renewal writes is served within seconds, where a Secret volume follows only after the kubelet's
 * next sync (a minute and a half). Until the Secret holds a usable pair (an install ships it
 * empty, and the renewal fills it), a placeholder keeps the HTTPS port answering /healthz and
 * `pending()` says why the replica is not ready. A pair that is missing, or that does not pass
 * `checkKeyPair`, never replaces one in use.
 */
import type { Logger } from 'pino'
import type { KeyPair } from '../admission/types.js'
import type { KubeClient } from '../kube/client.js'
import { watchObject, type ObjectWatch, type ObjectWatchOptions } from '../kube/object-watch.js'
import { checkKeyPair, describeCertificate, type KeyPairSource } from './key-pair.js'

/** The part of a Secret read here. */
export interface SecretObject {
  readonly metadata?: { readonly name?: string, readonly resourceVersion?: string }
  readonly data?: Readonly<Record<string, string>>
}

/** A key pair source fed by a Secret. */
export interface SecretKeyPair extends KeyPairSource {
  /** Why the pair in use is not the Secret's yet, or undefined once it is. */
  pending(): string | undefined
  /** The pair taken from the Secret (undefined while the placeholder is served), and its CAs (`ca.crt`). */
  fromSecret(): { readonly pair: KeyPair, readonly ca: string | undefined } | undefined
}

/** Options of `watchSecretKeyPair`. */
export interface SecretKeyPairOptions {
  readonly kube: KubeClient
  readonly namespace: string
  readonly name: string
  /** Served until the Secret holds a usable pair. */
  readonly placeholder: KeyPair
  readonly logger: Logger
  /** The watch (tests pass their own). */
  readonly watch?: (options: ObjectWatchOptions<SecretObject>) => ObjectWatch
}

const decode = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8')

/** The pair a Secret holds (`tls.crt`, `tls.key`), or why it holds none that can serve. */
export function pairOfSecret (secret: SecretObject | undefined, what: string):
{ pair: KeyPair, ca: string | undefined } | string {
  if (secret === undefined) return `${what} does not exist`
  const cert = decode(secret.data?.['tls.crt'])
  const key = decode(secret.data?.['tls.key'])
  if (cert === '' || key === '') return `${what} holds no key pair yet (tls.crt, tls.key)`
  const ca = secret.data?.['ca.crt'] === undefined ? undefined : decode(secret.data['ca.crt'])
  return { pair: { cert, key }, ca }
}

/** Starts watching the Secret; the placeholder is served at once. */
export function watchSecretKeyPair (o: SecretKeyPairOptions): SecretKeyPair {
  const what = `Secret ${o.namespace}/${o.name}`
  const where = { cert: `${what} tls.crt`, key: `${what} tls.key` }
  const listeners = new Set<(pair: KeyPair) => void>()
  let current = o.placeholder
  let taken: { pair: KeyPair, ca: string | undefined } | undefined
  let pending: string | undefined = `${what} not read yet`

  function onChange (secret: SecretObject | undefined): void {
    const found = pairOfSecret(secret, what)
    if (typeof found === 'string') {
      // The pair in use stays: a deleted Secret (an uninstall under way) must not stop the serving.
      if (taken === undefined) pending = found
      o.logger.info({ reason: found }, taken === undefined ? 'waiting for the key pair' : 'keeping the key pair in use')
      return
    }
    if (found.pair.cert === taken?.pair.cert && found.pair.key === taken.pair.key) {
      taken = found
      return
    }
    let cert
    try {
      cert = checkKeyPair(found.pair, where)
    } catch (err) {
      if (taken === undefined) pending = (err as Error).message
      o.logger.warn({ err }, 'the Secret\'s key pair is unusable; keeping the one in use')
      return
    }
    taken = found
    current = found.pair
    pending = undefined
    o.logger.info({ certificate: describeCertificate(cert), secret: what }, 'TLS key pair loaded from the Secret')
    for (const listener of listeners) listener(found.pair)
  }

  const watch = (o.watch ?? watchObject)({
    kube: o.kube,
    collection: `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/secrets`,
    name: o.name,
    what,
    onChange,
    logger: o.logger
  })
  return {
    current: () => current,
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    close () {
      listeners.clear()
      void watch.close()
    },
    pending: () => pending,
    fromSecret: () => taken
  }
}
