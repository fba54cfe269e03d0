/**
 * The certificate code's cluster calls: Secrets and the MutatingWebhookConfiguration's caBundle, over
 * the small API client (src/kube/), for `lameduck certs` and for the renewal inside serve alike.
 * Every failure becomes one line that says what was being done and what the API server (or the
 * network) said. A kubeconfig the small client cannot read (exec plugins, auth providers) loads
 * @kubernetes/client-node for its credentials only (src/kube/connect.ts).
 */
import { connectKube } from '../kube/connect.js'
import type { KubeClient } from '../kube/client.js'
import type { KubeTarget } from '../kube/access.js'
import { explain, statusOf } from '../kube/errors.js'
import type { ClusterApi, SecretContent, WebhookConfiguration } from './cluster-api.js'

interface Secret {
  type?: string
  data?: Record<string, string>
  metadata?: Record<string, unknown> & { annotations?: Record<string, string> }
}
interface MutatingWebhookConfiguration { webhooks?: Array<{ name: string, clientConfig: { caBundle?: string } }> }

const decode = (value: string): string => Buffer.from(value, 'base64').toString('utf8')
const mapValues = (data: Readonly<Record<string, string>>, fn: (v: string) => string): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, fn(value)]))
const encode = (value: string): string => Buffer.from(value, 'utf8').toString('base64')
/** The Secret types whose data may be any keys: a Secret of another kind (a token, a registry's) is not ours. */
const WRITABLE_TYPES = new Set(['Opaque', 'kubernetes.io/tls'])

/** A ClusterApi over `kube`. */
export function clusterApiOver (kube: KubeClient): ClusterApi {
  const server = kube.server
  const call = async <T>(what: string, fn: () => Promise<T>, absent?: () => T): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      if (absent !== undefined && statusOf(err) === 404) return absent()
      throw explain(err, what, server)
    }
  }
  const secretPath = (namespace: string, name?: string): string =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`
  const webhookPath = (name: string): string => `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(name)}`

  async function readSecret (namespace: string, name: string): Promise<SecretContent | undefined> {
    const secret = await call<Secret | undefined>(`reading Secret ${namespace}/${name}`, async () => await kube.request<Secret>('GET', secretPath(namespace, name)), () => undefined)
    if (secret === undefined) return undefined
    return { type: secret.type ?? 'Opaque', data: mapValues(secret.data ?? {}, decode), annotations: secret.metadata?.annotations ?? {} }
  }

  async function writeSecret (namespace: string, name: string, content: SecretContent): Promise<'created' | 'updated'> {
    const what = `writing Secret ${namespace}/${name}`
    const existing = await call<Secret | undefined>(what, async () => await kube.request<Secret>('GET', secretPath(namespace, name)), () => undefined)
    // Kept: labels, owner references, resourceVersion (optimistic concurrency); managedFields are the server's to keep.
    const metadata = {
      ...existing?.metadata,
      managedFields: undefined,
      name,
      namespace,
      annotations: { ...existing?.metadata?.annotations, ...content.annotations }
    }
    // A type cannot change: an existing Secret keeps its own (the chart ships them empty, as Opaque).
    const type = existing === undefined ? content.type : existing.type ?? 'Opaque'
    if (!WRITABLE_TYPES.has(type)) {
      throw new Error(`${what}: it has type ${type}, which cannot hold a key pair: delete it and run again`)
    }
    const body = { apiVersion: 'v1', kind: 'Secret', metadata, type, data: mapValues(content.data, encode) }
    if (existing === undefined) {
      await call(what, async () => await kube.request('POST', secretPath(namespace), body))
      return 'created'
    }
    // With the resourceVersion read, a concurrent change makes this fail (409) rather than vanish.
    await call(what, async () => await kube.request('PUT', secretPath(namespace, name), body))
    return 'updated'
  }

  async function readWebhookConfiguration (name: string): Promise<WebhookConfiguration> {
    const what = `reading MutatingWebhookConfiguration ${name}`
    const config = await call(what, async () => await kube.request<MutatingWebhookConfiguration>('GET', webhookPath(name)), () => {
      const install = 'helm install, or kubectl apply -k manifests/'
      throw new Error(`${what}: it does not exist; install lameduck first (${install}), or name it with --webhook`)
    })
    const webhooks = (config.webhooks ?? []).map(webhook => ({ name: webhook.name, caBundle: decode(webhook.clientConfig.caBundle ?? '') }))
    if (webhooks.length === 0) throw new Error(`${what}: it has no webhooks`)
    return { name, webhooks }
  }

  async function writeCaBundle (config: WebhookConfiguration, bundle: string): Promise<void> {
    const value = encode(bundle)
    // The `test` operations make the patch fail, rather than land on the wrong webhook, if the
    // list changed since it was read. `add` sets the field whether or not it exists.
    const body = config.webhooks.flatMap((webhook, index) => [
      { op: 'test', path: `/webhooks/${index}/name`, value: webhook.name },
      { op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value }
    ])
    await call(`writing the caBundle of MutatingWebhookConfiguration ${config.name}`, async () => await kube.request('PATCH', webhookPath(config.name), body, 'application/json-patch+json'))
  }

  return { server, readSecret, writeSecret, readWebhookConfiguration, writeCaBundle }
}

/** A ClusterApi for `target`'s current (or named) context. */
export async function connectCluster (target: KubeTarget): Promise<ClusterApi> {
  return clusterApiOver(await connectKube(target))
}
