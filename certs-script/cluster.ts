/**
 * The certs-script's cluster calls over @kubernetes/client-node (1.4): Secrets and the
 * MutatingWebhookConfiguration's caBundle. Every failure becomes one line that says what was being
 * done and what the API server (or the network) said.
 */
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node'
import type { ClusterApi, ClusterTarget, SecretContent, WebhookConfiguration } from './cluster-api.js'

/** Where client-node points when it found no kubeconfig and is not in a Pod. */
const NOWHERE = 'http://localhost:8080'

/** Loads the kubeconfig (the target's file, or the default: $KUBECONFIG, ~/.kube/config, in-cluster), at the target's context; one line saying what is wrong with it. */
export function loadKubeConfig (target: ClusterTarget): KubeConfig {
  const config = new KubeConfig()
  try {
    if (target.kubeconfig === undefined) config.loadFromDefault()
    else config.loadFromFile(target.kubeconfig)
  } catch (err) {
    throw new Error(`cannot load kubeconfig ${target.kubeconfig ?? '(default)'}: ${(err as Error).message}`)
  }
  if (target.context !== undefined) {
    if (config.getContextObject(target.context) === null) throw new Error(`the kubeconfig has no context ${JSON.stringify(target.context)}`)
    config.setCurrentContext(target.context)
  }
  const server = config.getCurrentCluster()?.server
  if (server === undefined) throw new Error('the kubeconfig names no current cluster')
  return config
}

/** The message of the Status the API server sent, or the first line of whatever else it sent. */
function statusMessage (body: unknown): string | undefined {
  if (typeof body !== 'string' || body.trim() === '') return undefined
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message
    if (typeof message === 'string') return message
  } catch { /* not a Status: its text says more than nothing */ }
  return body.trim().split('\n')[0]!.slice(0, 200)
}

/** One line for a failed call: `what` failed, because of the API server's answer or the network. */
export function explain (err: unknown, what: string, server: string): Error {
  if (err instanceof ApiException) {
    const code = err.code as number
    const why = code === 401 ? 'the API server did not accept the credentials (401)' : code === 403 ? 'forbidden (403)' : `the API server answered ${code}`
    const message = statusMessage(err.body)
    return new Error(`${what}: ${why}${message === undefined ? '' : `: ${message}`}`)
  }
  const hint = server === NOWHERE ? ' (no kubeconfig found: give --kubeconfig, or set KUBECONFIG)' : ''
  return new Error(`${what}: cannot reach the API server at ${server}${hint}: ${networkMessage(err as Error)}`)
}

/** client-node 2 fetches with undici, whose error says only "fetch failed"; the reason (ECONNREFUSED…) is its cause. */
function networkMessage (err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined
  return cause === undefined || err.message.includes(cause) ? err.message : `${err.message}: ${cause}`
}

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
