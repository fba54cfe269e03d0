/**
 * Where serve's key pair comes from: generated in memory (`--self-signed`), files reloaded when they
 * change (`--tls-cert`, `--tls-key`: a Secret volume, cert-manager's), or a Secret read through the
 * API server (`--tls-secret`: what the chart and manifests/ use, the replicas making and renewing
 * the pair themselves). With a Secret, a replica is ready only once the caBundle of the webhook
 * configuration trusts the certificate it serves.
 */
import type { Logger } from 'pino'
import type { KeyPair } from '../admission/types.js'
import type { KubeClient } from '../kube/client.js'
import { createSelfSignedKeyPair, staticKeyPair, type KeyPairSource } from '../tls/key-pair.js'
import { watchSecretKeyPair } from '../tls/secret.js'
import { watchTrust } from '../tls/trust.js'
import { watchKeyPair } from '../tls/watch.js'
import type { ServeConfig } from './config.js'

/** The key pair source and what goes with it. */
export interface ServingTls {
  readonly tls: KeyPairSource
  /** For the expiry metrics: the real pair served and its CAs (a Secret's); absent: `ca.crt` next to --tls-cert. */
  readonly served?: () => { readonly pair: KeyPair, readonly ca: string | undefined } | undefined
  /** Why not ready, as far as the key pair goes. */
  notReady(): string[]
  /** Called when the served pair is not trusted by the caBundle (the renewal may restore it). */
  onDistrust(listener: () => void): void
  close(): Promise<void>
}

type TlsConfig = Pick<ServeConfig, 'selfSigned' | 'tlsCert' | 'tlsKey' | 'tlsSecret' | 'namespace' |
'webhookConfiguration'>

/** The source `config` names; `kube` is the API server client (needed for --tls-secret). */
export async function loadServingTls (config: TlsConfig, logger: Logger, kube: KubeClient | undefined):
Promise<ServingTls> {
  const simple = (tls: KeyPairSource): ServingTls =>
    ({ tls, notReady: () => [], onDistrust: () => undefined, close: async () => { tls.close() } })
  if (config.selfSigned) return simple(staticKeyPair(await createSelfSignedKeyPair()))
  if (config.tlsSecret === undefined) {
    return simple(await watchKeyPair({ certFile: config.tlsCert!, keyFile: config.tlsKey!, logger }))
  }
  // config.ts lets --tls-secret through only with a cluster.
  const log = logger.child({ component: 'tls' })
  const placeholder = await createSelfSignedKeyPair()
  const secret = watchSecretKeyPair({
    kube: kube!, namespace: config.namespace, name: config.tlsSecret, placeholder, logger: log
  })
  let distrusted: (() => void) | undefined
  const trust = watchTrust({
    kube: kube!,
    name: config.webhookConfiguration,
    served: () => secret.fromSecret()?.pair,
    logger: log,
    onDistrust: () => { distrusted?.() }
  })
  secret.onChange(() => { trust.check() })
  return {
    tls: secret,
    served: secret.fromSecret,
    notReady: () => {
      const pending = secret.pending()
      return [...pending === undefined ? [] : [pending], ...trust.notReady()]
    },
    onDistrust: listener => { distrusted = listener },
    async close () {
      secret.close()
      await trust.close()
    }
  }
}
