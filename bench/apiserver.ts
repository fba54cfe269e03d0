/**
 * Latency the webhook adds to Pod creation through a real API server (control-plane/, `startCluster`):
 * server-side dry-run creates of the same Pod, alternately in a namespace the webhook is registered for
 * and in one it is not, over one keep-alive HTTPS connection to the API server (no kubectl per
 * request, whose start-up would drown the difference). The webhook is the real `lameduck serve`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { parse } from 'yaml'
import { startCluster } from '../control-plane/cluster.js'
import { createNamespace } from '../control-plane/namespaces.js'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'
import { startServeProcess } from '../test/helpers/serve-process.js'
import { median, quantile } from './load.js'

/** What the API server comparison measured, in ms. */
export interface ApiServerResult {
  addedMsMedian: number
  addedMsP99: number
  withMsMedian: number
  withoutMsMedian: number
  withMsP99: number
  withoutMsP99: number
  samplesPerSide: number
}

/** The fixture's Pod, made creatable here: the default ServiceAccount, no owner, no server-set fields. */
function creatablePod (review: { request: { object: Record<string, unknown> } }): string {
  const pod = structuredClone(review.request.object) as { metadata: Record<string, unknown>, spec: { serviceAccount?: string, serviceAccountName: string, volumes: Array<{ name: string }>, containers: Array<{ volumeMounts: Array<{ name: string }> }> } }
  delete pod.metadata.namespace
  delete pod.metadata.ownerReferences
  delete pod.metadata.managedFields
  delete pod.spec.serviceAccount
  pod.spec.serviceAccountName = 'default'
  // The ServiceAccount admission plugin adds its own token volume.
  const isToken = (item: { name: string }): boolean => item.name.startsWith('kube-api-access-')
  pod.spec.volumes = pod.spec.volumes.filter(v => !isToken(v))
  for (const c of pod.spec.containers) c.volumeMounts = c.volumeMounts.filter(m => !isToken(m))
  return JSON.stringify(pod)
}

function webhookConfiguration (port: number, caPem: string): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'lameduck-bench' },
    webhooks: [{
      name: 'lameduck.lameduck.dev',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(caPem).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: { 'lameduck.dev/inject': 'enabled' } }
    }]
  })
}

/** Measures `rounds` rounds of `perRound` dry-run creates on each side; `log` reports progress. */
export async function benchApiServer (fixture: string, rounds: number, perRound: number, log: (line: string) => void): Promise<ApiServerResult> {
  const cluster = await startCluster({ log })
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-bench-'))
  let webhook: Awaited<ReturnType<typeof startServeProcess>> | undefined
  let pool: Pool | undefined
  try {
    const pair = await createSelfSignedKeyPair()
    await writeFile(join(dir, 'tls.crt'), pair.cert)
    await writeFile(join(dir, 'tls.key'), pair.key)
    await createNamespace(cluster, 'hooked', { 'lameduck.dev/inject': 'enabled' })
    await createNamespace(cluster, 'plain')
    webhook = await startServeProcess({ args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--kubeconfig', cluster.kubeconfigPath] })
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: webhookConfiguration(webhook.port, pair.cert) })
    if (applied.code !== 0) throw new Error(applied.stderr)
    const config = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as { users: Array<{ user: { token: string } }>, clusters: Array<{ cluster: { 'certificate-authority-data': string } }> }
    const ca = Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8')
    pool = new Pool(cluster.server, { connections: 1, connect: { ca } })
    const headers = { authorization: `Bearer ${config.users[0]!.user.token}`, 'content-type': 'application/json' }
    const body = creatablePod(JSON.parse(fixture))
    const create = async (namespace: string): Promise<{ ms: number, mutated: boolean }> => {
      const started = performance.now()
      const response = await pool!.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/pods?dryRun=All`, headers, body })
      const text = await response.body.text()
      const ms = performance.now() - started
      if (response.statusCode !== 201) throw new Error(`create in ${namespace}: HTTP ${response.statusCode} ${text}`)
      return { ms, mutated: text.includes('lameduck.dev/injected') }
    }
    // The API server picks up a new webhook configuration after a short lag.
    const deadline = Date.now() + 30_000
    while (!(await create('hooked')).mutated) {
      if (Date.now() > deadline) throw new Error('the webhook was never called')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    if ((await create('plain')).mutated) throw new Error('the plain namespace was mutated')
    for (let i = 0; i < 50; i++) { await create('hooked'); await create('plain') } // warm-up
    const withMs: number[] = []
    const withoutMs: number[] = []
    const added: number[] = []
    for (let round = 0; round < rounds; round++) {
      const w: number[] = []
      const wo: number[] = []
      for (let i = 0; i < perRound; i++) {
        // Alternate which side goes first, so neither always follows the other.
        if (i % 2 === 0) { w.push((await create('hooked')).ms); wo.push((await create('plain')).ms) } else { wo.push((await create('plain')).ms); w.push((await create('hooked')).ms) }
      }
      added.push(median(w) - median(wo))
      withMs.push(...w)
      withoutMs.push(...wo)
      log(`api server round ${round + 1}: with ${median(w).toFixed(2)} ms, without ${median(wo).toFixed(2)} ms (median)`)
    }
    const sortedWith = Float64Array.from(withMs).sort()
    const sortedWithout = Float64Array.from(withoutMs).sort()
    return {
      addedMsMedian: median(added),
      addedMsP99: quantile(sortedWith, 0.99) - quantile(sortedWithout, 0.99),
      withMsMedian: quantile(sortedWith, 0.5),
      withoutMsMedian: quantile(sortedWithout, 0.5),
      withMsP99: quantile(sortedWith, 0.99),
      withoutMsP99: quantile(sortedWithout, 0.99),
      samplesPerSide: withMs.length
    }
  } finally {
    await pool?.close()
    await webhook?.stop()
    await cluster.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
