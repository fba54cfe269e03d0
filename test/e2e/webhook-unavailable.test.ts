// A namespace lameduck cannot read, through the real kube-apiserver. The webhook reaches the API
// server through a TCP proxy the test closes once the namespace cache has synced; a namespace
// created after that is a cache miss whose direct read fails. lameduck cannot decide, so it answers
// 500 and the API server applies the configuration's failurePolicy: with manifests/fail-closed/
// (Fail) the Pod is refused with lameduck's message; with the default base (Ignore) it is created
// unchanged. Either way the webhook counts it as `unavailable`, not as a bug of its own.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import {
  OPTED_IN,
  clusterFor,
  createPod,
  injected,
  kubectl,
  metric,
  namespace,
  podOf,
  registerWebhook,
  startWebhook,
  until,
  untilMutated
} from '../helpers/e2e.js'
import { createTcpProxy, writeKubeconfigThrough } from '../helpers/tcp-proxy.js'

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url))
const cluster = await clusterFor(t, 240_000)
const dir = await mkdtemp(join(tmpdir(), 'lameduck-e2e-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const proxy = await createTcpProxy(t, Number(new URL(cluster.server).port))
await proxy.open()
const kubeconfigPath = join(dir, 'kubeconfig')
await writeKubeconfigThrough(proxy, cluster.kubeconfigPath, kubeconfigPath)

/** The failurePolicy a kustomization of manifests/ gives the webhook. */
async function failurePolicyOf (kustomization: string): Promise<'Ignore' | 'Fail'> {
  const { stdout } = await kubectl(cluster, ['kustomize', join(MANIFESTS, kustomization)])
  const config = parseAllDocuments(stdout).map(doc => doc.toJS() as { kind: string, webhooks?: Array<{ failurePolicy: 'Ignore' | 'Fail' }> })
    .find(object => object.kind === 'MutatingWebhookConfiguration')
  return config!.webhooks![0]!.failurePolicy
}

const webhook = await startWebhook(t, cluster, { kubeconfigPath })
await registerWebhook(cluster, webhook, { failurePolicy: await failurePolicyOf('base') })
await namespace(cluster, 'shop', OPTED_IN)
await untilMutated(cluster, 'shop', /^sleep=15s grace=30s /)
await proxy.close()
// Created after the proxy closed: the cache never hears of it, and reading it directly fails.
await namespace(cluster, 'fresh', OPTED_IN)

t.test('the default base (Ignore): the Pod is created unchanged, and counted as unavailable', async t => {
  t.equal(await failurePolicyOf('base'), 'Ignore')
  const { pod } = await createPod(cluster, 'fresh', podOf())
  t.equal(injected(pod), undefined, 'no marker')
  t.equal(pod.spec.containers[0]!.lifecycle, undefined, 'no hook')
  t.ok(await metric(webhook, 'lameduck_admission_reviews_total', 'decision="unavailable"') >= 1, 'counted as unavailable')
  t.equal(await metric(webhook, 'lameduck_admission_reviews_total', 'decision="error"'), 0, 'not as a bug of ours')
  t.match(webhook.log(), /"decision":"unavailable".*answered 500/, 'logged as not decided')
})

t.test('manifests/fail-closed (Fail): the Pod is refused, and kubectl says lameduck could not decide', async t => {
  const failurePolicy = await failurePolicyOf('fail-closed')
  t.equal(failurePolicy, 'Fail')
  await registerWebhook(cluster, webhook, { failurePolicy })
  const refused = await until('the Fail policy to be in use', async () => {
    const result = await cluster.kubectl(['create', '-n', 'fresh', '-f', '-'], { input: JSON.stringify(podOf({ name: 'refused' })) })
    return result.code === 0 ? (await cluster.kubectl(['delete', 'pod', 'refused', '-n', 'fresh']), undefined) : result
  })
  t.comment(refused.stderr.trim())
  t.match(refused.stderr, 'failed calling webhook "pods.lameduck.dev"', 'which webhook')
  t.match(refused.stderr, 'failed to call webhook: lameduck cannot decide: namespace "fresh" could not be read from the API server', 'and why, in lameduck\'s words')
  t.notMatch(refused.stderr, /ECONNREFUSED|127\.0\.0\.1:\d+\/api/, 'without internals')
  t.match((await cluster.kubectl(['get', 'pod', 'refused', '-n', 'fresh'])).stderr, /NotFound/, 'nothing stored')
  const { pod } = await createPod(cluster, 'shop', podOf())
  t.match(injected(pod), /^sleep=15s grace=30s /, 'a namespace in the cache is still mutated')
})
