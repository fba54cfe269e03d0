// The kustomize install (manifests/, the chart rendered), end to end on a real control plane: the
// API server accepts every object of it and of the fail-closed overlay; two replicas of `lameduck
// serve` from source, acting as the shipped ServiceAccount (so the shipped RBAC by resourceNames is
// what lets them list, watch and write), make their own certificates, become ready once the
// caBundle trusts them, and mutate Pods; `lameduck verify` says so; a renewal and a CA rotation by
// `lameduck certs --apply` from outside reach the served pair within seconds (the replicas watch
// the Secret) while Pods are created, none refused; and `kubectl delete -k` under Pod creations
// removes everything lameduck had, the webhook first: no Pod is refused.
//
// Installed from manifests/fail-closed (failurePolicy Fail), so that a call that fails shows as a
// refused Pod. Only the routing differs from a cluster: the Service becomes `ExternalName:
// localhost` on a relay's port, which passes each connection to the replicas in turn, so the API
// server dials localhost with SNI lameduck.lameduck-system.svc (control-plane/README.md). The
// Deployment is created but never runs: there is no kubelet (test/node/node.test.ts runs it).
import tap from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import https from 'node:https'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createNamespace } from '../../control-plane/namespaces.js'
import { freePorts } from '../../control-plane/ports.js'
import { routedManifests } from '../../control-plane/routing.js'
import { kubeconfig as kubeconfigFor } from '../../control-plane/kubeconfig.js'
import { apiserverCertFile } from '../../control-plane/components.js'
import { runCerts } from '../../certs-script/main.js'
import { runCli } from '../../src/cli/main.js'
import { isSignedBy, parseCertificate, splitPem, type CertificateInfo } from '../../src/certs/pem.js'
import { clusterFor, kubectl as kubectlOf, until } from '../helpers/e2e.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { servedFingerprint } from '../helpers/served.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

const t = tap
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const cluster = await clusterFor(t, 420_000)
const [port, ...replicaPorts] = await freePorts(3) as [number, number, number]
const kc = cluster.kubeconfigPath

const kubectl = async (args: string[], input?: string): Promise<string> =>
  (await kubectlOf(cluster, args, input)).stdout
const info = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo

/** Secret lameduck-system/NAME: its type and data, decoded. */
async function secret (name: string): Promise<{ type: string, data: Record<string, string> }> {
  const json = await kubectl(['get', 'secret', '-n', 'lameduck-system', name, '-o', 'json'])
  const { type, data } = JSON.parse(json) as { type: string, data?: Record<string, string> }
  const decoded = Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])
  return { type, data: Object.fromEntries(decoded) as Record<string, string> }
}
async function caBundle (): Promise<string[]> {
  type Configuration = { webhooks: Array<{ clientConfig: { caBundle?: string } }> }
  const json = await kubectl(['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])
  const config = JSON.parse(json) as Configuration
  return splitPem(Buffer.from(config.webhooks[0]!.clientConfig.caBundle ?? '', 'base64').toString('utf8'))
}
const servingFingerprint = async (): Promise<string> =>
  new X509Certificate((await secret('lameduck-tls')).data['tls.crt']!).fingerprint256
const servedByAll = async (): Promise<string[]> =>
  await Promise.all(replicas.map(serve => servedFingerprint(serve.port)))

interface Pod {
  metadata: { name: string, annotations?: Record<string, string> }
  spec: {
    terminationGracePeriodSeconds: number
    containers: Array<{ lifecycle?: { preStop?: { sleep?: { seconds: number } } } }>
  }
}

function podManifest (labels: Record<string, string> = {}, restartPolicy = 'Always'): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', labels }, spec: { restartPolicy, containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] } })
}

async function createPod (namespace: string, manifest = podManifest(), dryRun = false): Promise<Pod> {
  return JSON.parse(await kubectl(['create', '-n', namespace, '-f', '-', '-o', 'json', ...(dryRun ? ['--dry-run=server'] : [])], manifest)) as Pod
}

const injected = (pod: Pod): string | undefined => pod.metadata.annotations?.['lameduck.dev/injected']

/**
 * Creates Pods in `shop` one after another until stopped: what each came back with (its marker, or why it was refused).
 */
function createPods (): { stop: () => Promise<string[]> } {
  const outcomes: string[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const result = await cluster.kubectl(['create', '-n', 'shop', '-f', '-', '-o', 'json'], { input: podManifest() })
      const marker = (): string => injected(JSON.parse(result.stdout) as Pod) ?? 'created without the mutation'
      outcomes.push(result.code !== 0 ? `refused: ${result.stderr.trim()}` : marker())
    }
  })()
  return { stop: async () => { running = false; await loop; return outcomes } }
}

/** `lameduck ARGS` through the CLI's entry point: exit code and output. */
async function cli (...args: string[]): Promise<{ code: number, out: string }> {
  let out = ''
  const write = (text: string): void => { out += text; t.comment(text.trimEnd()) }
  return { code: await runCli(args, { stdout: write, stderr: write, env: {} }), out }
}

t.test('the API server accepts every object of the base and of the fail-closed overlay', async t => {
  // A server-side dry run cannot create the namespace its other objects go to.
  await kubectl(['apply', '-f', join(ROOT, 'manifests/base/namespace.yaml')])
  for (const overlay of ['manifests', 'manifests/fail-closed']) {
    const out = await kubectl(['apply', '--dry-run=server', '-k', join(ROOT, overlay)])
    const rbac = 'rbac.authorization.k8s.io'
    for (const object of ['serviceaccount/lameduck', `clusterrole.${rbac}/lameduck`, `clusterrolebinding.${rbac}/lameduck`,
      'service/lameduck', 'secret/lameduck-tls', 'secret/lameduck-ca', 'lease.coordination.k8s.io/lameduck-renew',
      `role.${rbac}/lameduck-renew`, `clusterrole.${rbac}/lameduck-renew`, 'deployment.apps/lameduck',
      'poddisruptionbudget.policy/lameduck', 'mutatingwebhookconfiguration.admissionregistration.k8s.io/lameduck']) {
      t.match(out, new RegExp(`^${object.replaceAll('.', '\\.')} created \\(server dry run\\)$`, 'm'), `${overlay}: ${object}`)
    }
  }
  t.match(await kubectl(['kustomize', join(ROOT, 'manifests/fail-closed')]), /failurePolicy: Fail/)
})

const replicas: ServeProcess[] = []

t.test('installed with kubectl apply -k: the replicas make their own certificates, are ready once trusted, and mutate Pods', async t => {
  await kubectl(['apply', '-f', '-'], await routedManifests(cluster, port, 'manifests/fail-closed'))
  t.same((await secret('lameduck-tls')).data, {}, 'the Secret ships empty')
  // The replicas act as the shipped ServiceAccount, with a token from the API server.
  const token = (await kubectl(['create', 'token', 'lameduck', '-n', 'lameduck-system', '--duration', '1h'])).trim()
  const saKubeconfig = join(t.testdir({}), 'lameduck-sa.kubeconfig')
  const ca = await readFile(apiserverCertFile(cluster.dir), 'utf8')
  await writeFile(saKubeconfig, kubeconfigFor(cluster.server, ca, token), { mode: 0o600 })
  for (const replicaPort of replicaPorts) {
    const args = ['--tls-secret', 'lameduck-tls', '--renew-certs', '--kubeconfig', saKubeconfig, '--drain-delay', '0s']
    const serve = await startServeProcess({ port: replicaPort, args })
    // Running for the file's later tests too: stopped at the file's end.
    tap.teardown(async () => { await serve.stop(10_000) })
    replicas.push(serve)
  }
  // The Service in front of the replicas: a connection to each in turn.
  const relay = await createTcpProxy(tap, replicaPorts, { port })
  await relay.open()
  const readiness = (serve: ServeProcess): Promise<number> => new Promise(resolve => {
    const options = { host: '127.0.0.1', port: serve.port, path: '/readyz', rejectUnauthorized: false }
    https.get(options, res => { res.resume(); resolve(res.statusCode!) }).on('error', () => { resolve(0) })
  })
  const ready = async (): Promise<true | undefined> =>
    (await Promise.all(replicas.map(readiness))).every(code => code === 200) || undefined
  await until('both replicas ready', ready, 60_000)

  const { type, data } = await secret('lameduck-tls')
  t.equal(type, 'Opaque', 'written into the shipped Secret, whose type stays')
  const caMade = info((await secret('lameduck-ca')).data['tls.crt']!)
  t.ok(isSignedBy(info(data['tls.crt']!), caMade), 'a serving certificate signed by the CA in lameduck-ca')
  t.same((await caBundle()).map(pem => info(pem).fingerprint), [caMade.fingerprint], 'that CA alone in the caBundle')
  t.equal(data['ca.crt'], caMade.pem)
  const fingerprint = await servingFingerprint()
  t.same(await servedByAll(), [fingerprint, fingerprint], 'each replica serves the Secret\'s pair')
  const renewed = replicas.filter(serve => /"msg":"certificate renewal: done"/.test(serve.log()))
  t.equal(renewed.length, 1, 'one replica (the Lease\'s) made them')
  const loaded = replicas.filter(serve => /"msg":"TLS key pair loaded from the Secret"/.test(serve.log()))
  t.equal(loaded.length, 2, 'both took them through the watch')

  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  await kubectl(['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=20s'])
  // The API server loads a new caBundle after a short lag.
  await until('the first mutation', async () => {
    const dryRun = ['create', '-n', 'shop', '-f', '-', '-o', 'json', '--dry-run=server']
    const result = await cluster.kubectl(dryRun, { input: podManifest() })
    return result.code === 0 ? injected(JSON.parse(result.stdout) as Pod) : undefined
  })
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
    'the workload webhook answers too, through the Service, with the caBundle the replicas set on every webhook')

  const verified = await cli('verify', '--namespace', 'shop', '--kubeconfig', kc)
  t.equal(verified.code, 0, 'lameduck verify: mutated')
  t.match(verified.out, /^ {2}preStop {3}sleep 20s \(the native sleep action\)\n/m)
  t.match(verified.out, /^ {2}grace {5}terminationGracePeriodSeconds 35\n/m)
  const notOptedIn = await cli('verify', '--namespace', 'plain', '--kubeconfig', kc)
  t.equal(notOptedIn.code, 1, 'lameduck verify: not mutated')
  t.match(notOptedIn.out, /the namespace is not opted in: kubectl label namespace plain lameduck.dev\/inject=enabled/)
})

t.test('a renewal and a CA rotation from outside (lameduck certs --apply), while Pods are created: served within seconds, none refused', async t => {
  const comment = (text: string): void => { t.comment(text.trimEnd()) }
  const say = { stdout: comment, stderr: comment, env: {} }
  const caBefore = (await caBundle())[0]!
  const stream = createPods()
  await sleep(1000)
  t.equal(await runCerts(['--kubeconfig', kc, '--force'], say), 0, 'lameduck certs --force')
  const written = Date.now()
  const renewedPair = await servingFingerprint()
  const servingRenewed = async (): Promise<true | undefined> =>
    (await servedByAll()).every(fp => fp === renewedPair) || undefined
  await until('the renewed pair served by both replicas', servingRenewed, 30_000)
  const seconds = (Date.now() - written) / 1000
  t.comment(`the renewed pair was served by both replicas ${seconds.toFixed(1)} s after it was written`)
  t.ok(seconds < 10, 'within seconds, through the watch (a Secret volume takes up to a minute and a half)')
  t.equal((await caBundle())[0], caBefore, '--force keeps the CA')
  const rotate = ['--kubeconfig', kc, '--rotate-ca', '--wait', '--overlap', '3s', '--settle', '3s']
  t.equal(await runCerts(rotate, say), 0, 'lameduck certs --rotate-ca')
  await sleep(2000)
  const outcomes = await stream.stop()
  t.ok(outcomes.length >= 10, `${outcomes.length} Pods created during the renewals`)
  t.same(outcomes.filter(outcome => !/^sleep=20s/.test(outcome)), [], 'every one of them mutated, none refused')
  const bundle = await caBundle()
  t.equal(bundle.length, 1, 'the caBundle is the new CA alone')
  t.not(bundle[0], caBefore)
  const fingerprint = await servingFingerprint()
  t.same(await servedByAll(), [fingerprint, fingerprint], 'each replica serves the Secret\'s pair')
})

t.test('kubectl delete -k, while Pods are created: the webhook goes first, none is refused, nothing of lameduck is left', async t => {
  const stream = createPods()
  await sleep(1000)
  const remove = ['delete', '-k', join(ROOT, 'manifests/fail-closed'), '--ignore-not-found', '--timeout=120s']
  const deleted = await cluster.kubectl(remove, { timeoutMs: 150_000 })
  t.equal(deleted.code, 0, 'kubectl delete -k manifests/fail-closed')
  t.comment(deleted.stderr.trim())
  const lines = deleted.stdout.trim().split('\n')
  t.match(lines[0], /^mutatingwebhookconfiguration.admissionregistration.k8s.io "lameduck" deleted/, 'the webhook first')
  await sleep(2000)
  const outcomes = await stream.stop()
  t.same(outcomes.filter(outcome => outcome.startsWith('refused')), [], 'no Pod refused')
  t.ok(outcomes.at(-1) === 'created without the mutation', 'Pods go on being created, without lameduck now')
  const clusterWide = ['get', 'mutatingwebhookconfigurations,clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/name=lameduck']
  t.equal(await kubectl([...clusterWide, '-o', 'name']), '', 'no cluster-wide object left')
  const namespaces = await kubectl(['get', 'namespaces', '-o', 'name'])
  t.notMatch(namespaces, /lameduck-system/, 'its namespace is gone, and with it the Secrets and the Lease the replicas wrote')
})
