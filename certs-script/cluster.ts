/**
 * The certs-script's cluster calls over @kubernetes/client-node (1.4): Secrets and the
 * MutatingWebhookConfiguration's caBundle. Every failure becomes one line that says what was being
 * done and what the API server (or the network) said.
 */
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, type V1Secret } from '@kubernetes/client-node'
import { explain, loadKubeConfig, type ClusterTarget } from '../src/common/cluster.js'
import type { ClusterApi, SecretContent, WebhookConfiguration } from './cluster-api.js'

const decode = (data: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]))
const encode = (data: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]))

/** A ClusterApi for `target`'s current (or named) context. */
export async function connectCluster (target: ClusterTarget): Promise<ClusterApi> {
  const config = loadKubeConfig(target)
  const server = config.getCurrentCluster()!.server
  const core = config.makeApiClient(CoreV1Api)
  const admission = config.makeApiClient(AdmissionregistrationV1Api)
  const call = async <T>(what: string, fn: () => Promise<T>, absent?: () => T): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      if (absent !== undefined && err instanceof ApiException && err.code === 404) return absent()
      throw explain(err, what, server)
    }
  }

  async function readSecret (namespace: string, name: string): Promise<SecretContent | undefined> {
    const secret = await call<V1Secret | undefined>(`reading Secret ${namespace}/${name}`, async () => await core.readNamespacedSecret({ namespace, name }), () => undefined)
    if (secret === undefined) return undefined
    return { type: secret.type ?? 'Opaque', data: decode(secret.data), annotations: secret.metadata?.annotations ?? {} }
  }

  async function writeSecret (namespace: string, name: string, content: SecretContent): Promise<'created' | 'updated'> {
    const what = `writing Secret ${namespace}/${name}`
    const existing = await call<V1Secret | undefined>(what, async () => await core.readNamespacedSecret({ namespace, name }), () => undefined)
    // Kept: labels, owner references, resourceVersion (optimistic concurrency); managedFields are the server's to keep.
    const metadata = { ...existing?.metadata, managedFields: undefined, name, namespace, annotations: { ...existing?.metadata?.annotations, ...content.annotations } }
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata, type: content.type, data: encode(content.data) }
    if (existing === undefined) {
      await call(what, async () => await core.createNamespacedSecret({ namespace, body }))
      return 'created'
    }
    if (existing.type !== content.type) throw new Error(`${what}: it has type ${existing.type ?? 'Opaque'}, not ${content.type}, and a Secret's type cannot change: delete it and run again`)
    // With the resourceVersion read, a concurrent change makes this fail (409) rather than vanish.
    await call(what, async () => await core.replaceNamespacedSecret({ namespace, name, body }))
    return 'updated'
  }

  async function readWebhookConfiguration (name: string): Promise<WebhookConfiguration> {
    const what = `reading MutatingWebhookConfiguration ${name}`
    const config = await call(what, async () => await admission.readMutatingWebhookConfiguration({ name }), () => {
      throw new Error(`${what}: it does not exist; apply the manifests first (kubectl apply -k manifests/), or name it with --webhook`)
    })
    const webhooks = (config.webhooks ?? []).map(webhook => ({ name: webhook.name, caBundle: decode({ caBundle: webhook.clientConfig.caBundle ?? '' }).caBundle! }))
    if (webhooks.length === 0) throw new Error(`${what}: it has no webhooks`)
    return { name, webhooks }
  }

  async function writeCaBundle (config: WebhookConfiguration, bundle: string): Promise<void> {
    const value = Buffer.from(bundle, 'utf8').toString('base64')
    // The `test` operations make the patch fail, rather than land on the wrong webhook, if the
    // list changed since it was read. `add` sets the field whether or not it exists.
    const body = config.webhooks.flatMap((webhook, index) => [
      { op: 'test', path: `/webhooks/${index}/name`, value: webhook.name },
      { op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value }
    ])
    await call(`writing the caBundle of MutatingWebhookConfiguration ${config.name}`, async () => await admission.patchMutatingWebhookConfiguration({ name: config.name, body }))
  }

  return { server, readSecret, writeSecret, readWebhookConfiguration, writeCaBundle }
}
