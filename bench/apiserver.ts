/**
 * Latency the webhook adds to Pod creation through a real API server (control-plane/, `startCluster`):
 * server-side dry-run creates of the same Pod, alternately in a namespace the webhook is registered for
 * and in one it is not, over one keep-alive HTTPS connection to the API server (no kubectl per
 * request, whose start-up would drown the difference). The webhook is the real `lameduck serve`
 * (compiled, with the Deployment's NODE_OPTIONS); the
 * Go peer (bench/go-peer/) is registered the same way for a third namespace, measured in the same rounds.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { parse } from 'yaml'
import { startCluster } from '../control-plane/cluster.js'
import { createNamespace } from '../control-plane/namespaces.js'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'
import { compiledEntry, rssBytes, startServeProcess } from '../test/helpers/serve-process.js'
import { median, quantile } from './stats.js'
import { startGoPeer, type GoPeer } from './peer.js'

/** What the API server comparison measured, in ms. */
export interface ApiServerResult {
  addedMsMedian: number
  addedMsP99: number
  withMsMedian: number
  withoutMsMedian: number
  withMsP99: number
  withoutMsP99: number
  samplesPerSide: number
  /** The same through the Go peer, in the same rounds. */
  goAddedMsMedian: number
  goAddedMsP99: number
  goWithMsMedian: number
  goWithMsP99: number
  /** RSS in MB of each webhook after the rounds: lameduck with its namespace informer, as in a cluster. */
  rssMb: number
  goRssMb: number
}

/** The fixture's Pod, made creatable here: the default ServiceAccount, no owner, no server-set fields. */
function creatablePod (review: { request: { object: Record<string, unknown> } }): string {
  const pod = structuredClone(review.request.object) as {
    metadata: Record<string, unknown>
    spec: {
      serviceAccount?: string
      serviceAccountName: string
      volumes: Array<{ name: string }>
      containers: Array<{ volumeMounts: Array<{ name: string }> }>
    }
  }
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

/**
 * One webhook's registration; lameduck's and the Go peer's differ only in name, port and the one
 * label that sends each its own namespace (both namespaces carry the opt-in label of README.md's contract).
 */
function webhookConfiguration (peer: 'lameduck' | 'go', port: number, caPem: string): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `bench-${peer}` },
    webhooks: [{
      name: `${peer}.lameduck.dev`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(caPem).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: { 'lameduck.dev/inject': 'enabled', 'bench.lameduck.dev/peer': peer } }
    }]
  })
}

/** Median minus median, and p99 minus p99, of sorted samples with and without a webhook. */
function added (withMs: Float64Array, withoutMs: Float64Array): { median: number, p99: number } {
  return {
    median: quantile(withMs, 0.5) - quantile(withoutMs, 0.5),
    p99: quantile(withMs, 0.99) - quantile(withoutMs, 0.99)
  }
}

const sorted = (values: number[]): Float64Array => Float64Array.from(values).sort()

/**
 * Measures `rounds` rounds of `perRound` dry-run creates in each of three namespaces: one lameduck is
 * registered for, one the Go peer (`goBinary`) is registered for, and one with no webhook, in a
 * rotating order; `log` reports progress. Both webhooks run with the same key pair.
 */
export async function benchApiServer (
  fixture: string,
  rounds: number,
  perRound: number,
  goBinary: string,
  log: (line: string) => void
): Promise<ApiServerResult> {
  const cluster = await startCluster({ log })
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-bench-'))
  let webhook: Awaited<ReturnType<typeof startServeProcess>> | undefined
  let peer: GoPeer | undefined
  let pool: Pool | undefined
  try {
    const pair = await createSelfSignedKeyPair()
    await writeFile(join(dir, 'tls.crt'), pair.cert)
    await writeFile(join(dir, 'tls.key'), pair.key)
    const goLabels = { 'lameduck.dev/inject': 'enabled', 'bench.lameduck.dev/peer': 'go' }
    await createNamespace(cluster, 'hooked', {
      'lameduck.dev/inject': 'enabled',
      'bench.lameduck.dev/peer': 'lameduck'
    })
    await createNamespace(cluster, 'hooked-go', goLabels)
    await createNamespace(cluster, 'plain')
    webhook = await startServeProcess({
      entry: await compiledEntry(),
      args: [
        '--tls-cert',
        join(dir, 'tls.crt'),
        '--tls-key',
        join(dir, 'tls.key'),
        '--kubeconfig',
        cluster.kubeconfigPath
      ]
    })
    peer = await startGoPeer({
      binary: goBinary,
      dir: await mkdtemp(join(dir, 'go-')),
      pair,
      namespaces: [{ name: 'hooked-go', labels: goLabels, annotations: {} }]
    })
    for (const [name, port] of [
      ['lameduck', webhook.port],
      ['go', peer.port]
    ] as const) {
      const applied = await cluster.kubectl(['apply', '-f', '-'], {
        input: webhookConfiguration(name, port, pair.cert)
      })
      if (applied.code !== 0) throw new Error(applied.stderr)
    }
    const config = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as {
      users: Array<{ user: { token: string } }>
      clusters: Array<{ cluster: { 'certificate-authority-data': string } }>
    }
    const ca = Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8')
    pool = new Pool(cluster.server, { connections: 1, connect: { ca } })
    const headers = { authorization: `Bearer ${config.users[0]!.user.token}`, 'content-type': 'application/json' }
    const body = creatablePod(JSON.parse(fixture))
    const create = async (namespace: string): Promise<{ ms: number, mutated: boolean }> => {
      const started = performance.now()
      const response = await pool!.request({
        method: 'POST',
        path: `/api/v1/namespaces/${namespace}/pods?dryRun=All`,
        headers,
        body
      })
      const text = await response.body.text()
      const ms = performance.now() - started
      if (response.statusCode !== 201) throw new Error(`create in ${namespace}: HTTP ${response.statusCode} ${text}`)
      return { ms, mutated: text.includes('lameduck.dev/injected') }
    }
    // The API server picks up a new webhook configuration after a short lag.
    const deadline = Date.now() + 30_000
    while (!(await create('hooked')).mutated || !(await create('hooked-go')).mutated) {
      if (Date.now() > deadline) throw new Error('the webhooks were never called')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    if ((await create('plain')).mutated) throw new Error('the plain namespace was mutated')
    const sides = ['hooked', 'hooked-go', 'plain'] as const
    for (let i = 0; i < 50; i++) for (const side of sides) await create(side) // warm-up
    const samples: Record<(typeof sides)[number], number[]> = { hooked: [], 'hooked-go': [], plain: [] }
    const perRoundAdded: number[] = []
    const perRoundGoAdded: number[] = []
    for (let round = 0; round < rounds; round++) {
      const these: Record<(typeof sides)[number], number[]> = { hooked: [], 'hooked-go': [], plain: [] }
      for (let i = 0; i < perRound; i++) {
        // Rotate which side goes first, so none always follows another.
        for (let j = 0; j < sides.length; j++) {
          const side = sides[(i + j) % sides.length]!
          these[side].push((await create(side)).ms)
        }
      }
      perRoundAdded.push(median(these.hooked) - median(these.plain))
      perRoundGoAdded.push(median(these['hooked-go']) - median(these.plain))
      for (const side of sides) samples[side].push(...these[side])
      log(
        `api server round ${round + 1}: lameduck ${median(these.hooked).toFixed(2)} ms, Go peer ${median(these['hooked-go']).toFixed(2)} ms, no webhook ${median(these.plain).toFixed(2)} ms (median)`
      )
    }
    const rssMb = (await rssBytes(webhook.pid)) / 2 ** 20
    const goRssMb = (await rssBytes(peer.pid)) / 2 ** 20
    const withMs = sorted(samples.hooked)
    const goMs = sorted(samples['hooked-go'])
    const withoutMs = sorted(samples.plain)
    return {
      addedMsMedian: median(perRoundAdded),
      addedMsP99: added(withMs, withoutMs).p99,
      withMsMedian: quantile(withMs, 0.5),
      withoutMsMedian: quantile(withoutMs, 0.5),
      withMsP99: quantile(withMs, 0.99),
      withoutMsP99: quantile(withoutMs, 0.99),
      samplesPerSide: withMs.length,
      goAddedMsMedian: median(perRoundGoAdded),
      goAddedMsP99: added(goMs, withoutMs).p99,
      goWithMsMedian: quantile(goMs, 0.5),
      goWithMsP99: quantile(goMs, 0.99),
      rssMb,
      goRssMb
    }
  } finally {
    await pool?.close()
    await webhook?.stop()
    await peer?.stop()
    await cluster.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
