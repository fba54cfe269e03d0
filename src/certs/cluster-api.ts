/**
 * What the certificate code needs of a cluster, as plain data, so that the renewal logic is tested
 * without an API server (cluster.ts is the implementation over the small API client, src/kube/).
 */
import type { KubeTarget } from '../kube/access.js'

/** A Secret's content, decoded: `data` values are text (PEM), not base64. */
export interface SecretContent {
  /** Read: the Secret's type. Written: the type of a new Secret; an existing one keeps its own (types never change). */
  readonly type: string
  readonly data: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

/** A MutatingWebhookConfiguration's webhooks and their caBundles (PEM text, '' when unset). */
export interface WebhookConfiguration {
  readonly name: string
  readonly webhooks: ReadonlyArray<{ readonly name: string, readonly caBundle: string }>
}

/** The calls; each failure is an Error whose message says what failed and why, in one line. */
export interface ClusterApi {
  /** The API server's URL, for messages. */
  readonly server: string
  /** The Secret, or undefined when there is none. */
  readSecret(namespace: string, name: string): Promise<SecretContent | undefined>
  /** Creates the Secret, or replaces its data (keeping its type) and adds its annotations; says which. */
  writeSecret(namespace: string, name: string, content: SecretContent): Promise<'created' | 'updated'>
  /** The configuration; throws when it does not exist. */
  readWebhookConfiguration(name: string): Promise<WebhookConfiguration>
  /** Sets every webhook's caBundle to `bundle` (PEM), failing if the webhooks changed since `config` was read. */
  writeCaBundle(config: WebhookConfiguration, bundle: string): Promise<void>
}

/** Makes a client for `target`; throws when the kubeconfig cannot be loaded. */
export type Connect = (target: KubeTarget) => Promise<ClusterApi>
