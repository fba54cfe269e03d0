/**
 * Readiness on trust (`serve --tls-secret`): a replica is ready only once the certificate it serves
 * verifies against the caBundle of every webhook of lameduck's MutatingWebhookConfiguration, which
 * it watches as it watches the Secret. Until then (before the first pair, or a pair written ahead of
 * its CA, or a caBundle someone replaced) the API server's TLS handshake with this replica would
 * fail: better out of the Service than called and failing. A watch that fails keeps the last
 * verdict, so an API server that is briefly away never takes every replica out at once.
 */
import { X509Certificate } from 'node:crypto'
import type { Logger } from 'pino'
import type { KeyPair } from '../admission/types.js'
import type { KubeClient } from '../kube/client.js'
import { watchObject, type ObjectWatch, type ObjectWatchOptions } from '../kube/object-watch.js'

/** The part of a MutatingWebhookConfiguration read here. */
export interface WebhookConfigurationObject {
  readonly metadata?: { readonly name?: string, readonly resourceVersion?: string }
  readonly webhooks?: ReadonlyArray<{ readonly name?: string, readonly clientConfig?: { readonly caBundle?: string } }>
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/** Whether one of the PEM certificates of `bundle` issued and signed `cert`. */
function trustedBy (cert: X509Certificate, bundle: string): boolean {
  return [...bundle.matchAll(PEM_CERTIFICATE)].some(([pem]) => {
    try {
      const ca = new X509Certificate(pem)
      return cert.checkIssued(ca) && cert.verify(ca.publicKey)
    } catch {
      return false
    }
  })
}

/**
 * Why the API server would not trust `servedCert` (PEM) when calling the webhooks of `config`, or
 * undefined when every webhook's caBundle trusts it. Pure.
 */
export function distrust (servedCert: string, config: WebhookConfigurationObject | undefined, configName: string):
string | undefined {
  const what = `MutatingWebhookConfiguration ${configName}`
  if (config === undefined) return `${what} does not exist`
  const webhooks = config.webhooks ?? []
  if (webhooks.length === 0) return `${what} has no webhooks`
  const cert = new X509Certificate(servedCert)
  const bundleOf = (hook: (typeof webhooks)[number]): string =>
    Buffer.from(hook.clientConfig?.caBundle ?? '', 'base64').toString('utf8')
  const untrusting = webhooks.filter(hook => !trustedBy(cert, bundleOf(hook)))
  if (untrusting.length === 0) return undefined
  const issuer = cert.issuer.replaceAll('\n', ', ')
  const names = untrusting.map(hook => hook.name ?? '?').join(', ')
  return `the caBundle of ${what} (${names}) does not trust the served certificate, issued by ${issuer}`
}

/** Options of `watchTrust`. */
export interface TrustOptions {
  readonly kube: KubeClient
  /** The MutatingWebhookConfiguration's name. */
  readonly name: string
  /** The pair served now, when it is the real one (undefined while a placeholder is served). */
  readonly served: () => KeyPair | undefined
  readonly logger: Logger
  /** Called when a served pair turns out not to be trusted (the renewal may put its CA back). */
  readonly onDistrust?: () => void
  readonly watch?: (options: ObjectWatchOptions<WebhookConfigurationObject>) => ObjectWatch
}

/** The verdict, kept current; `check()` after the served pair changed. */
export interface Trust {
  /** Why not ready: nothing when the served pair is trusted, or while no real pair is served (its own reason). */
  notReady(): string[]
  check(): void
  close(): Promise<void>
}

/** Starts watching the webhook configuration's caBundle. */
export function watchTrust (o: TrustOptions): Trust {
  let config: WebhookConfigurationObject | undefined
  let read = false
  let verdict: string | undefined
  const check = (): void => {
    const pair = o.served()
    if (!read || pair === undefined) return
    const before = verdict
    verdict = distrust(pair.cert, config, o.name)
    if (verdict === before) return
    if (verdict === undefined) o.logger.info('the caBundle trusts the served certificate: ready')
    else {
      o.logger.warn({ reason: verdict }, 'the served certificate is not trusted: not ready')
      o.onDistrust?.()
    }
  }
  const watch = (o.watch ?? watchObject)({
    kube: o.kube,
    collection: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    name: o.name,
    what: `MutatingWebhookConfiguration ${o.name}`,
    onChange: object => { config = object; read = true; check() },
    logger: o.logger
  })
  return {
    notReady () {
      if (o.served() === undefined) return []
      if (!read) return [`the caBundle of MutatingWebhookConfiguration ${o.name} not read yet`]
      return verdict === undefined ? [] : [verdict]
    },
    check,
    close: () => watch.close()
  }
}
