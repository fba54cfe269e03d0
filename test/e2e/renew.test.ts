// The in-cluster renewal (issue 17), end to end on a real control plane: two `lameduck serve`
// replicas with --renew-certs, each authenticated as the shipped ServiceAccount (so the shipped
// RBAC, scoped by resourceNames, is what lets them write), renew the serving certificate and rotate
// the CA by themselves, with validities of a minute and four, while Pods are created without pause.
// Every Pod must come out mutated, the API server must never have failed a call, the replicas must
// never have fought over a renewal (the Lease), and the Secrets and caBundle must end consistent.
//
// As in install.test.ts, the Service is `ExternalName: localhost` on a relay's port; the relay
// sends each connection to the replicas in turn. The API server keeps its connections alive (and
// makes new ones when the caBundle changes), so a probe also makes a new TLS handshake with each
// replica four times a second, checked against the caBundle of that moment. There is no kubelet: a
// stand-in (test/helpers/secret-volume.ts) copies the Secret into each replica's directory as a
// Secret volume would, one replica 1 s after the change and the other 5 s after.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node'
import { freePorts } from '../../control-plane/ports.js'
import { routedManifests } from '../../control-plane/routing.js'
import { kubeconfig as kubeconfigFor } from '../../control-plane/kubeconfig.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { runCerts } from '../../certs-script/main.js'
import { isSignedBy, parseCertificate, splitPem, type CertificateInfo } from '../../src/certs/pem.js'
import { clusterFor, kubectl as kubectlOf, until } from '../helpers/e2e.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { secretVolume } from '../helpers/secret-volume.js'
import { servedFingerprint } from '../helpers/served.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

const SERVING = '60s'
const CA = '4m'
const OVERLAP = '20s'
const LAGS = [1000, 5000]

const cluster = await clusterFor(t, 900_000)
const kubectl = async (args: string[], input?: string): Promise<string> =>
  (await kubectlOf(cluster, args, input)).stdout
const dir = t.testdir({})
const [relayPort, ...replicaPorts] = await freePorts(3) as [number, number, number]

const admin = new KubeConfig()
admin.loadFromFile(cluster.kubeconfigPath)
const core = admin.makeApiClient(CoreV1Api)
const info = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo
const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]))
async function secret (name: string): Promise<Record<string, string> | undefined> {
  try {
    return decode((await core.readNamespacedSecret({ namespace: 'lameduck-system', name })).data)
  } catch {
    return undefined
  }
}
const admission = admin.makeApiClient(AdmissionregistrationV1Api)
async function caBundleText (): Promise<string> {
  const config = await admission.readMutatingWebhookConfiguration({ name: 'lameduck' })
  return Buffer.from(config.webhooks![0]!.clientConfig.caBundle ?? '', 'base64').toString('utf8')
}
async function caBundle (): Promise<string[]> {
  return splitPem(await caBundleText())
}

const served = (port: number): Promise<string> => servedFingerprint(port)

/**
 * Every 250 ms, a new TLS handshake with each replica, checked against the caBundle the API server
 * has at that moment, as the API server checks a new connection (SNI lameduck.lameduck-system.svc).
 * The API server's own connections live on (keep-alive) and are made anew when the caBundle
 * changes; this checks every moment in between, for both replicas.
 */
function startProbe (bundle: () => Promise<string>): {
  stop: () => Promise<Array<{ at: string, replica: number, error: string }>>
  handshakes: () => number
} {
  const failures: Array<{ at: string, replica: number, error: string }> = []
  let handshakes = 0
  let running = true
  const handshake = (port: number, ca: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = tls
        .connect({ host: '127.0.0.1', port, servername: 'lameduck.lameduck-system.svc', ca }, () => {
          socket.destroy()
          resolve()
        })
        .on('error', reject)
    })
  const loop = (async () => {
    while (running) {
      const ca = await bundle()
      for (const [replica, port] of replicaPorts.entries()) {
        try {
          await handshake(port, ca)
          handshakes++
        } catch (err) {
          failures.push({ at: new Date().toISOString(), replica, error: (err as Error).message })
        }
      }
      await sleep(250)
    }
  })()
  return {
    handshakes: () => handshakes,
    stop: async () => {
      running = false
      await loop
      return failures
    }
  }
}

/** A counter or gauge of a replica, summed over the series that match `labels`. */
async function metric (serve: ServeProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${serve.metricsPort}/metrics`)).text()
  return text.split('\n').filter(line => line.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `) || (labels === '' && line.startsWith(`${name}{`)))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
}

t.test('two replicas renew the serving certificate three times and rotate the CA, under Pod creations, without a failed call', async t => {
  await kubectl(['apply', '-f', '-'], await routedManifests(cluster, relayPort))
  // The install's second command, with short validities: the first pair.
  const out: string[] = []
  const io = { stdout: (text: string) => { out.push(text) }, stderr: (text: string) => { out.push(text) }, env: {} }
  t.equal(await runCerts(['--kubeconfig', cluster.kubeconfigPath, '--validity', SERVING, '--ca-validity', CA], io), 0, 'lameduck certs --apply')
  const firstCa = info((await secret('lameduck-ca'))!['tls.crt']!)

  // The replicas act as the shipped ServiceAccount, with a token from the API server.
  const token = (await kubectl(['create', 'token', 'lameduck', '-n', 'lameduck-system', '--duration', '1h'])).trim()
  const saKubeconfig = join(dir, 'lameduck-sa.kubeconfig')
  await writeFile(saKubeconfig, kubeconfigFor(cluster.server, admin.getCurrentCluster()!.caData === undefined ? '' : Buffer.from(admin.getCurrentCluster()!.caData!, 'base64').toString('utf8'), token), { mode: 0o600 })

  // Every Secret the serving Secret ever held, as the volumes' poller saw it.
  const seen = new Set<string>()
  const readServing = async (): Promise<Record<string, string> | undefined> => {
    const data = await secret('lameduck-tls')
    if (data?.['tls.crt'] !== undefined) seen.add(info(data['tls.crt']).fingerprint)
    return data
  }
  const replicas: ServeProcess[] = []
  for (const [index, port] of replicaPorts.entries()) {
    const volume = secretVolume(join(dir, `replica-${index}`), readServing, { lagMs: LAGS[index]! })
    t.teardown(() => { volume.stop() })
    await volume.syncNow()
    const serve = await startServeProcess({
      port,
      args: ['--tls-cert', join(volume.dir, 'tls.crt'), '--tls-key', join(volume.dir, 'tls.key'), '--kubeconfig', saKubeconfig, '--drain-delay', '0s',
        '--renew-certs', '--renew-validity', SERVING, '--renew-ca-validity', CA, '--renew-overlap', OVERLAP]
    })
    t.teardown(async () => { await serve.stop(10_000) })
    replicas.push(serve)
  }
  // The Service in front of the replicas: a connection to each in turn.
  const relay = await createTcpProxy(t, replicaPorts, { port: relayPort })
  await relay.open()
  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-' }, spec: { restartPolicy: 'Always', containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] } }
  const injected = (created: V1Pod): string | undefined => created.metadata?.annotations?.['lameduck.dev/injected']
  await until('the first mutation', async () => injected(await core.createNamespacedPod({ namespace: 'shop', body: pod, dryRun: 'All' })), 60_000)

  // Pods, one after another from two clients, while the replicas renew by themselves.
  const outcomes: string[] = []
  const started = Date.now()
  const since = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
  let creating = true
  const creator = async (): Promise<void> => {
    while (creating) {
      try {
        outcomes.push(injected(await core.createNamespacedPod({ namespace: 'shop', body: pod })) ?? `created without the mutation at ${since()}`)
      } catch (err) {
        outcomes.push(`failed at ${since()}: ${(err as Error).message.split('\n')[0]}`)
      }
      // A steady stream (several a second), not a flood: the machine is shared.
      await sleep(150)
    }
  }
  const connectionsBefore = relay.connections()
  const loops = [creator(), creator()]
  const probe = startProbe(caBundleText)
  let reported = ''
  const renewals = async (certificate: string): Promise<number> => (await Promise.all(replicas.map(async serve => await metric(serve, 'lameduck_certificate_renewals_total', `certificate="${certificate}"`)))).reduce((a, b) => a + b, 0)
  try {
    // At least three serving renewals besides the one a CA rotation makes, then the rotation done: the old CA gone from
    // the caBundle.
    await until(
      'three serving renewals and a CA rotation, finished',
      async () => {
        const [serving, ca] = [await renewals('serving'), await renewals('ca')]
        const progress = `${serving} serving renewals, ${ca} CA rotations`
        if (progress !== reported) t.comment(`${since()}: ${progress}, ${outcomes.length} Pods`)
        reported = progress
        await sleep(1000)
        if (serving < 4 || ca < 1) return undefined
        const bundle = await caBundle()
        return bundle.length === 1 && info(bundle[0]!).fingerprint !== firstCa.fingerprint ? true : undefined
      },
      420_000
    )
    // Both replicas serve what the Secret holds (the slower volume is 5 s behind).
    const final = (await secret('lameduck-tls'))!
    const finalFingerprint = new X509Certificate(final['tls.crt']!).fingerprint256
    await until(
      "both replicas to serve the Secret's pair",
      async () =>
        (await Promise.all(replicaPorts.map(served))).every(fp => fp === finalFingerprint) ? true : undefined,
      30_000
    )
    await sleep(2000)
  } finally {
    creating = false
    await Promise.all(loops)
  }
  const probeFailures = await probe.stop()

  t.ok(outcomes.length >= 100, `${outcomes.length} Pods created during the renewals`)
  const calls = relay.connections() - connectionsBefore
  t.comment(`${calls} connections from the API server through the relay`)
  const reviews = await Promise.all(replicas.map(async serve => await metric(serve, 'lameduck_admission_reviews_total')))
  t.ok(reviews.reduce((a, b) => a + b, 0) >= outcomes.length, `reviews answered per replica: ${reviews.join(', ')}`)
  t.ok(probe.handshakes() > 200, `${probe.handshakes()} handshakes checked against the caBundle of the moment`)
  t.same(probeFailures, [], 'each replica\'s certificate was trusted by the API server\'s caBundle at every moment')
  t.same(outcomes.filter(outcome => !/^sleep=15s/.test(outcome)), [], 'every Pod created, and mutated')
  // What the API server said about each failed call, if any.
  const apiserverLog = await readFile(join(cluster.dir, 'kube-apiserver.log'), 'utf8').catch(() => '')
  for (const line of apiserverLog.split('\n').filter(l => l.includes('pods.lameduck.dev')).slice(0, 20)) t.comment(line.slice(0, 400))

  // The API server's own count of calls to lameduck that failed and were let through.
  const apiMetrics = await kubectl(['get', '--raw', '/metrics'])
  const failOpen = apiMetrics.split('\n').filter(line => line.startsWith('apiserver_admission_webhook_fail_open_count{') && line.includes('name="pods.lameduck.dev"'))
  t.same(failOpen.filter(line => Number(line.split(' ').pop()) !== 0), [], 'the API server never failed open on lameduck')

  // No fight: every renewal was done once, by one replica, and none failed.
  const failures = await Promise.all(replicas.map(async serve => await metric(serve, 'lameduck_certificate_renewal_failures_total')))
  t.same(failures, [0, 0], 'no renewal failed on either replica')
  const servingRenewals = await renewals('serving')
  t.equal(seen.size, servingRenewals + 1, `${seen.size} serving certificates in the Secret: the first, and one per renewal counted (${servingRenewals})`)
  const perReplica = await Promise.all(replicas.map(async serve => await metric(serve, 'lameduck_certificate_renewals_total')))
  t.comment(`renewals per replica: ${perReplica.join(', ')}`)
  const lease = JSON.parse(await kubectl(['get', 'lease', '-n', 'lameduck-system', 'lameduck-renew', '-o', 'json'])) as { spec: { holderIdentity?: string, leaseTransitions?: number } }
  t.ok((lease.spec.leaseTransitions ?? 0) > servingRenewals, `the Lease was taken ${lease.spec.leaseTransitions} times, given back after each run`)

  // Consistent: the Secrets, the caBundle and what is served agree.
  const servingSecret = (await secret('lameduck-tls'))!
  const caSecret = (await secret('lameduck-ca'))!
  const ca = info(caSecret['tls.crt']!)
  t.not(ca.fingerprint, firstCa.fingerprint, 'a new CA')
  t.equal(servingSecret['ca.crt'], caSecret['tls.crt'], 'the serving Secret\'s ca.crt is the CA')
  t.ok(isSignedBy(info(servingSecret['tls.crt']!), ca), 'the serving certificate is signed by it')
  t.same(await caBundle(), [ca.pem], 'the caBundle is the new CA alone')
  for (const [index, serve] of replicas.entries()) {
    const expiry = await metric(serve, 'lameduck_certificate_expiry_timestamp_seconds', 'certificate="serving"')
    t.equal(expiry, Math.floor(info(servingSecret['tls.crt']!).notAfter.getTime() / 1000), `replica ${index}: the expiry metric is that of the served certificate`)
    t.equal(await metric(serve, 'lameduck_certificate_expiry_timestamp_seconds', 'certificate="ca"'), Math.floor(ca.notAfter.getTime() / 1000), `replica ${index}: and of its CA`)
    t.match(serve.log(), /TLS key pair reloaded/, `replica ${index}: reloaded the renewed pairs from its volume`)
  }
  t.equal(await readFile(join(dir, 'replica-1', 'tls.crt'), 'utf8'), servingSecret['tls.crt'], 'the slow volume caught up')
})

t.test('the ServiceAccount may write the named Secrets, webhook configuration and Lease, and nothing else', async t => {
  const can = async (...args: string[]): Promise<string> => (await cluster.kubectl(['auth', 'can-i', '--as', 'system:serviceaccount:lameduck-system:lameduck', ...args])).stdout.trim()
  t.equal(await can('update', 'secret/lameduck-tls', '-n', 'lameduck-system'), 'yes')
  t.equal(await can('update', 'secret/lameduck-ca', '-n', 'lameduck-system'), 'yes')
  t.equal(await can('patch', 'mutatingwebhookconfiguration/lameduck'), 'yes')
  t.equal(await can('update', 'lease/lameduck-renew', '-n', 'lameduck-system'), 'yes')
  t.equal(await can('get', 'secret/other', '-n', 'lameduck-system'), 'no')
  t.equal(await can('create', 'secrets', '-n', 'lameduck-system'), 'no')
  t.equal(await can('list', 'secrets', '-n', 'lameduck-system'), 'no')
  t.equal(await can('patch', 'mutatingwebhookconfiguration/other'), 'no')
  t.equal(await can('update', 'lease/other', '-n', 'lameduck-system'), 'no')
  t.equal(await can('update', 'secret/lameduck-tls', '-n', 'default'), 'no')
})
