// The install, end to end on a real control plane: the API server accepts every object of the
// manifests; `lameduck certs` bootstraps the key pair and caBundle for a webhook running on this
// machine; Pods in an opted-in namespace come out mutated; and renewing the serving certificate, then
// rotating the CA, while Pods are being created fails no call and ends with the new pair served.
//
// Only the routing differs from a cluster: the Service becomes `ExternalName: localhost` and the
// webhook's port is the local one, so the API server dials localhost with SNI
// lameduck.lameduck-system.svc (control-plane/README.md). The Deployment is created but never runs:
// there is no kubelet. On that port a TCP relay passes each connection through to the webhook and
// counts connections: each caBundle change makes the API server dial anew, and that TLS handshake is
// checked against the caBundle of the moment, so a wrong order of writes would fail calls.
import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createNamespace } from '../../control-plane/namespaces.js'
import { freePorts } from '../../control-plane/ports.js'
import { routedManifests } from '../../control-plane/routing.js'
import { runCerts } from '../../certs-script/main.js'
import { splitPem } from '../../src/certs/pem.js'
import { clusterFor, kubectl as kubectlOf, until } from '../helpers/e2e.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { servedFingerprint } from '../helpers/served.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'


const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const cluster = await clusterFor(t, 300_000)
const [port, webhookPort] = await freePorts(2) as [number, number]
const dir = t.testdir({})
const kc = cluster.kubeconfigPath

const kubectl = async (args: string[], input?: string): Promise<string> => (await kubectlOf(cluster, args, input)).stdout

/** `lameduck certs ARGS`, in this process; its lines go to the TAP comments too. */
async function certs (t: Test, ...args: string[]): Promise<string> {
  let out = ''
  const io = { stdout: (text: string) => { out += text; t.comment(text.trimEnd()) }, stderr: (text: string) => { out += text }, env: {} }
  t.equal(await runCerts(['--kubeconfig', kc, '--out', dir, ...args], io), 0, `lameduck certs ${args.join(' ')}`)
  return out
}

/** `lameduck serve` from source on the webhook's port, reading the key pair from `dir`; stopped by PID at teardown. */
async function startWebhook (): Promise<ServeProcess> {
  const serve = await startServeProcess({ port: webhookPort, args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--kubeconfig', kc, '--drain-delay', '0s'] })
  t.teardown(async () => { await serve.stop(10_000) })
  return serve
}

const served = (): Promise<string> => servedFingerprint(webhookPort)
const fingerprintOf = async (file: string): Promise<string> => new X509Certificate(await readFile(join(dir, file))).fingerprint256

interface Pod { metadata: { name: string, annotations?: Record<string, string> }, spec: { terminationGracePeriodSeconds: number, containers: Array<{ lifecycle?: { preStop?: { sleep?: { seconds: number } } } }> } }

function podManifest (labels: Record<string, string> = {}, restartPolicy = 'Always'): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', labels }, spec: { restartPolicy, containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] } })
}

async function createPod (namespace: string, manifest = podManifest(), dryRun = false): Promise<Pod> {
  return JSON.parse(await kubectl(['create', '-n', namespace, '-f', '-', '-o', 'json', ...(dryRun ? ['--dry-run=server'] : [])], manifest)) as Pod
}

const injected = (pod: Pod): string | undefined => pod.metadata.annotations?.['lameduck.dev/injected']

t.test('the API server accepts every object of the base and of the fail-closed overlay', async t => {
  // A server-side dry run cannot create the namespace its other objects go to.
  await kubectl(['apply', '-f', join(ROOT, 'manifests/base/namespace.yaml')])
  for (const overlay of ['manifests', 'manifests/fail-closed']) {
    const out = await kubectl(['apply', '--dry-run=server', '-k', join(ROOT, overlay)])
    for (const object of ['serviceaccount/lameduck', 'clusterrole.rbac.authorization.k8s.io/lameduck', 'clusterrolebinding.rbac.authorization.k8s.io/lameduck', 'service/lameduck',
      'deployment.apps/lameduck', 'poddisruptionbudget.policy/lameduck', 'mutatingwebhookconfiguration.admissionregistration.k8s.io/lameduck']) {
      t.match(out, new RegExp(`^${object.replaceAll('.', '\\.')} created \\(server dry run\\)$`, 'm'), `${overlay}: ${object}`)
    }
  }
  t.match(await kubectl(['kustomize', join(ROOT, 'manifests/fail-closed')]), /failurePolicy: Fail/)
})

t.test('install, then renew and rotate the certificates while Pods are created: every Pod is mutated', async t => {
  await kubectl(['apply', '-f', '-'], await routedManifests(cluster, port))
  const first = await certs(t)
  t.match(first, /CA CN=lameduck-ca@\d+: new/)
  const webhook = await startWebhook()
  // The Service's port: each caBundle change makes the API server dial anew through it.
  const relay = await createTcpProxy(t, webhookPort, { port })
  await relay.open()
  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  await kubectl(['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=20s'])
  // The API server loads a new webhook configuration after a short lag.
  await until('the first mutation', async () => injected(await createPod('shop', podManifest(), true)))

  const pod = await createPod('shop')
  t.equal(pod.spec.containers[0]!.lifecycle?.preStop?.sleep?.seconds, 20, 'a native preStop sleep')
  t.equal(pod.spec.terminationGracePeriodSeconds, 35, 'grace = sleep + the default 15 s budget')
  t.match(injected(pod), /^sleep=20s grace=35s handler=sleep containers=web$/)
  t.equal(injected(await createPod('shop', podManifest({ 'lameduck.dev/inject': 'disabled' }))), undefined, 'a Pod that opts out')
  t.equal(injected(await createPod('shop', podManifest({}, 'Never'))), undefined, 'restartPolicy Never: skipped by matchConditions')
  await createNamespace(cluster, 'plain')
  t.equal(injected(await createPod('plain')), undefined, 'a namespace that did not opt in')
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] } } } }
  const applied = await cluster.kubectl(['apply', '--dry-run=server', '-n', 'shop', '-f', '-'], { input: JSON.stringify(deployment) })
  t.match(applied.stderr, /^Warning: lameduck: Pods of this Deployment: terminationGracePeriodSeconds raised from 30 to 35/m,
    'the workload webhook answers too, through the Service, with the caBundle lameduck certs set on every webhook')

  t.match(await certs(t), /nothing to do/, 'a second run changes nothing')
  const caBefore = await fingerprintOf('ca.crt')

  // Pods created one after another for as long as the certificates change under them.
  const outcomes: Array<string | undefined> = []
  const connectionsBefore = relay.connections()
  let creating = true
  const loop = (async () => {
    while (creating) outcomes.push(injected(await createPod('shop')) ?? 'created without the mutation')
  })()
  await sleep(1000)
  await certs(t, '--force')
  t.equal(await fingerprintOf('ca.crt'), caBefore, '--force keeps the CA')
  await until('the renewed certificate to be served', async () => await served() === await fingerprintOf('tls.crt') ? true : undefined)
  const rotation = await certs(t, '--rotate-ca', '--wait', '--overlap', '3s', '--settle', '3s')
  t.match(rotation, /trusting CN=lameduck-ca@\d+ and CN=lameduck-ca@\d+\n/)
  t.match(rotation, /dropping CN=lameduck-ca@\d+ \(replaced by/)
  t.equal(await served(), await fingerprintOf('tls.crt'), 'the new pair is served')
  await sleep(2000)
  creating = false
  await loop

  t.ok(outcomes.length >= 10, `${outcomes.length} Pods created during the renewals`)
  const connections = relay.connections() - connectionsBefore
  t.ok(connections >= 2, `${connections} new connections: the API server dialled anew as the caBundle changed`)
  const unmutated = outcomes.filter(outcome => !/^sleep=20s/.test(outcome ?? ''))
  if (unmutated.length > 0) {
    // What the API server said of the failed call: the reason is in its log, not in the Pod.
    const log = await readFile(join(cluster.dir, 'kube-apiserver.log'), 'utf8').catch(() => '')
    for (const line of log.split('\n').filter(line => /lameduck/.test(line) && /fail|error/i.test(line)).slice(-5)) t.comment(line)
  }
  t.same(unmutated, [], 'every one of them mutated')
  const config = JSON.parse(await kubectl(['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])) as { webhooks: Array<{ clientConfig: { caBundle: string } }> }
  const bundle = splitPem(Buffer.from(config.webhooks[0]!.clientConfig.caBundle, 'base64').toString('utf8'))
  t.same(bundle, [await readFile(join(dir, 'ca.crt'), 'utf8')], 'the caBundle is the new CA alone')
  t.not(await fingerprintOf('ca.crt'), caBefore)
  const secret = JSON.parse(await kubectl(['get', 'secret', '-n', 'lameduck-system', 'lameduck-tls', '-o', 'json'])) as { type: string, data: Record<string, string> }
  t.equal(secret.type, 'kubernetes.io/tls')
  t.equal(Buffer.from(secret.data['tls.crt']!, 'base64').toString('utf8'), await readFile(join(dir, 'tls.crt'), 'utf8'), 'the Secret holds the pair that is served')
  t.match(webhook.log(), /TLS key pair reloaded/)
})
