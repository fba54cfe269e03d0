// A real node next to the local control plane, as `startCluster({ node: true })` gives it: Pods run
// on a real kubelet through containerd, runc and the CNI bridge, their images (and the sandbox's)
// pulled from the node's registry under the names users write; a Service answers through
// kube-proxy's ClusterIP, by its cluster DNS name, from a Pod; a Pod reaches the API server as an
// in-cluster client with its ServiceAccount; the guard rules keep Pods off the node's own ports.
// Then lameduck installed as a user installs it, with `helm install oci://…` and nothing else (its
// image from the Dockerfile and its packaged chart pushed to the node's registry as a release
// publishes them, failurePolicy Fail, so that a call that fails shows as a refused Pod): both
// replicas Ready with the certificates they made, a mutated Pod, `helm test` passing; kept working
// through a rolling restart of itself, a CA rotation and a lost replica while Pods are created;
// `lameduck check` against manifests/loadtest, which passes with lameduck and fails without it;
// `helm upgrade` (new values, three replicas, a new image) while Pods are created, none refused or
// left unmutated. Then the faults on the way in: an upgrade naming a tag the registry lacks, and
// the registry stopped during a rollout that pulls. Then `helm uninstall` while Pods are created,
// nothing of lameduck left after. Last, stopping it leaves the machine exactly as it was. One node
// per machine: the node tests run one file at a time (npm run test:node), and this file shares one
// node across its cases.
import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { NODE } from '../../control-plane/node/config.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { lameduckLayout } from '../../control-plane/images/lameduck-image.js'
import { pushImage } from '../../control-plane/images/push.js'
import { publishToRegistry, type Published } from '../../release/publish.js'
import { runHelm } from '../../control-plane/helm.js'
import { get } from '../../control-plane/probe.js'
import { ctr } from '../../control-plane/node/node.js'
import { readNodesState } from '../../control-plane/node/nodes.js'
import { repoRoot } from '../../control-plane/paths.js'
import { isRunning } from '../../control-plane/processes.js'
import { runCerts } from '../../certs-script/main.js'
import { runCli } from '../../src/cli/main.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { injected, kubectl, until } from '../helpers/e2e.js'
import { snapshotMachineAlone } from '../helpers/machine.js'
import { nodeClusterFor, runOnce } from '../helpers/node.js'

// Taken holding the node lock (another checkout's node test may run now): the machine as this test
// will leave it. The file's own budget starts once its node is up (nodeClusterFor).
const before = await snapshotMachineAlone([], t)
const cluster = await nodeClusterFor(t, 900_000)
const file = t
const node = cluster.node!
const registry = cluster.registry!

const web = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{
          name: 'web',
          image: AGNHOST_IMAGE,
          args: ['netexec', '--http-port=8080'],
          ports: [{ containerPort: 8080, name: 'http' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 }
        }]
      }
    }
  }
}
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }

t.test('a Deployment runs on the node: Ready Pods with addresses on the Pod bridge, in the Service\'s EndpointSlice', async t => {
  t.equal(cluster.server, `https://${NODE.gateway}:${new URL(cluster.server).port}`, 'the API server listens on the bridge\'s gateway')
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [web, service] }))
  await slowKubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'])
  const pods = JSON.parse((await kubectl(cluster, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout) as { items: Array<{ spec: { nodeName: string }, status: { podIP: string } }> }
  t.equal(pods.items.length, 2)
  for (const pod of pods.items) {
    t.equal(pod.spec.nodeName, node.name, 'scheduled on the node')
    t.match(pod.status.podIP, /^10\.88\.128\.\d+$/, 'an address in the node\'s Pod CIDR')
  }
  const addresses = await until('both Pods in the EndpointSlice', async () => {
    const { stdout } = await kubectl(cluster, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]}'])
    return stdout.split(' ').filter(Boolean).length === 2 ? stdout : undefined
  })
  t.same(addresses.split(' ').sort(), pods.items.map(p => p.status.podIP).sort())
  // Named as users write them, pulled from the node's registry as its mirror of registry.k8s.io.
  await pulledFromRegistry(t, AGNHOST_IMAGE, 'e2e-test-images/agnhost')
  await pulledFromRegistry(t, NODE.pauseImage, 'pause')
})

t.test('from a Pod: the Service by its DNS name through the ClusterIP, and the API server with the Pod\'s ServiceAccount', async t => {
  const script = `
    const web = await (await fetch('http://web.default.svc/hostname')).text()
    const ca = (await import('node:fs')).readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', 'utf8')
    const token = (await import('node:fs')).readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8')
    const https = await import('node:https')
    const version = await new Promise((resolve, reject) => https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: '/version', ca, servername: 'kubernetes.default.svc', headers: { authorization: 'Bearer ' + token } }, res => { let b = ''; res.on('data', c => { b += c }); res.on('end', () => resolve(res.statusCode + ' ' + b)) }).on('error', reject))
    let kubelet = 'reached'
    try { await fetch('https://${node.address}:${NODE.kubeletPort}/healthz', { signal: AbortSignal.timeout(2000) }) } catch (err) { kubelet = String(err.cause?.code ?? err.name) }
    console.log(JSON.stringify({ web, version, kubelet }))`
  const { phase, log } = await runOnce(cluster, 'default', 'probe', 'lameduck:0.1.0', ['node', '--input-type=module', '-e', script])
  t.equal(phase, 'Succeeded', log)
  const result = JSON.parse(log.trim().split('\n').pop()!) as { web: string, version: string, kubelet: string }
  t.match(result.web, /^web-/, 'a web Pod answered with its name')
  t.match(result.version, /^200 .*"gitVersion": ?"v1\.\d+\.\d+"/s, 'the API server answered the in-cluster client')
  t.not(result.kubelet, 'reached', `the kubelet's port is closed to Pods (${result.kubelet})`)
})

/**
 * The node's containerd has `ref` (nothing is imported: it got there by a pull), the registry's log
 * shows containerd resolving it (`repo`, the path under the registry, and the tag), and containerd
 * never tried another host (a hosts.toml it cannot read sends it to the upstream host instead).
 */
async function pulledFromRegistry (t: Test, ref: string, repo: string): Promise<void> {
  const escape = (text: string): string => text.replace(/[.:]/g, '\\$&')
  const images = await ctr(node.state.dir, ['images', 'ls', '-q'])
  t.match(images, new RegExp(`^${escape(ref)}$`, 'm'), `containerd has ${ref}`)
  const registryLog = await readFile(join(cluster.dir, 'registry.log'), 'utf8')
  // By tag, or by digest (`repo@sha256:…`).
  const tag = ref.includes('@') ? ref.slice(ref.indexOf('@') + 1) : ref.slice(ref.lastIndexOf(':') + 1)
  const resolved = new RegExp(`(HEAD|GET) /v2/${repo}/manifests/${escape(tag)}(\\?ns=\\S+)? *$`, 'm')
  t.match(registryLog, resolved, `the registry resolved ${repo} ${tag}`)
  const containerdLog = await readFile(join(node.state.dir, 'containerd.log'), 'utf8')
  t.notMatch(containerdLog, /failed to decode hosts\.toml|trying next host/, 'containerd asked no other host')
}

/** kubectl for the slow waits (`rollout status`): the helper's 30 s limit is too short for them. */
async function slowKubectl (args: string[]): Promise<string> {
  const result = await cluster.kubectl(args, { timeoutMs: 240_000 })
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

/** `lameduck certs ARGS` against the cluster, as a user would run it by hand; its lines go to the TAP comments. */
async function certs (t: Test, ...args: string[]): Promise<string> {
  let out = ''
  const io = {
    stdout: (text: string) => {
      out += text
      t.comment(text.trimEnd())
    },
    stderr: (text: string) => {
      out += text
      t.comment(text.trimEnd())
    },
    env: {}
  }
  t.equal(await runCerts(['--kubeconfig', cluster.kubeconfigPath, ...args], io), 0, `lameduck certs ${args.join(' ')}`)
  return out
}

/** lameduck's Pods, by name, with whether they are Ready and not leaving. */
async function webhookPods (): Promise<Array<{ name: string, ready: boolean }>> {
  const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', 'lameduck-system', '-l', 'app.kubernetes.io/name=lameduck', '-o', 'json'])
  const pods = (
    JSON.parse(stdout) as {
      items: Array<{
        metadata: { name: string, deletionTimestamp?: string }
        status: { conditions?: Array<{ type: string, status: string }> }
      }>
    }
  ).items
  return pods.map(pod => ({ name: pod.metadata.name, ready: pod.metadata.deletionTimestamp === undefined && pod.status.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true }))
}

/** A Pod that is created, mutated or not, and never scheduled (a scheduling gate nobody lifts). */
const gatedPod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-' }, spec: { schedulingGates: [{ name: 'lameduck.dev/e2e-never' }], containers: [{ name: 'web', image: AGNHOST_IMAGE }] } })

/** Creates gated Pods in `shop` one after another until stopped; counts the mutated, unmutated and refused. */
function createPods (): { stop: () => Promise<{ mutated: number, unmutated: number, refused: string[] }> } {
  const counts = { mutated: 0, unmutated: 0, refused: [] as string[] }
  let running = true
  const loop = (async () => {
    while (running) {
      const result = await cluster.kubectl(['create', '-n', 'shop', '-f', '-', '-o', 'json'], { input: gatedPod })
      if (result.code !== 0) counts.refused.push(result.stderr.trim())
      else if (/^sleep=/.test(injected(JSON.parse(result.stdout) as Parameters<typeof injected>[0]) ?? '')) counts.mutated++
      else counts.unmutated++
    }
  })()
  return { stop: async () => { running = false; await loop; return counts } }
}

/** What every helm install and upgrade here sets: Fail (the image is the packaged chart's). */
const values = (...more: string[]): string[] => ['failurePolicy=Fail', ...more].flatMap(value => ['--set', value])
/** The chart and its image, published to the node's registry as a release publishes them (release/publish.ts). */
let published: Published
/** `oci://…/lameduck --version X`, from the node's registry (HTTPS; cluster.helm trusts its CA). */
const fromRegistry = (): string[] => [published.chart, '--version', published.version]

/** helm against the cluster, as a user runs it; throws with what it said on a non-zero exit. */
async function helm (t: Test, args: string[], timeoutMs = 300_000): Promise<string> {
  const started = Date.now()
  const { code, stdout, stderr } = await cluster.helm(args, { timeoutMs })
  t.comment(`helm ${args.slice(0, 2).join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (code !== 0) throw new Error(`helm ${args.join(' ')}: ${stderr.trim()}\n${stdout.trim()}`)
  return stdout
}

/** The serving Secret's certificate and the caBundle, decoded. */
async function certificates (): Promise<{ serving: string, ca: string, bundle: string }> {
  const get = async <T>(...args: string[]): Promise<T> =>
    JSON.parse((await kubectl(cluster, ['get', ...args, '-o', 'json'])).stdout) as T
  const secret = await get<{ data?: Record<string, string> }>('secret', '-n', 'lameduck-system', 'lameduck-tls')
  type Configuration = { webhooks: Array<{ clientConfig: { caBundle?: string } }> }
  const config = await get<Configuration>('mutatingwebhookconfiguration', 'lameduck')
  const text = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8')
  const bundle = text(config.webhooks[0]!.clientConfig.caBundle)
  return { serving: text(secret.data?.['tls.crt']), ca: text(secret.data?.['ca.crt']), bundle }
}

const installed = 'installed as a user installs it: helm install oci://, both replicas Ready with their certificates, helm test'
t.test(installed, async t => {
  // The image from the Dockerfile and the chart naming it, pushed to a registry as a release pushes them.
  const started = Date.now()
  published = await publishToRegistry(registry, line => { t.comment(line) })
  t.comment(`image and chart published in ${((Date.now() - started) / 1000).toFixed(1)} s: ${published.chart}`)
  const install = ['install', 'lameduck', ...fromRegistry(), '--namespace', 'lameduck-system', '--create-namespace']
  await helm(t, [...install, ...values(), '--wait', '--timeout', '4m'])
  const pods = await webhookPods()
  t.equal(pods.filter(p => p.ready).length, 2, 'two replicas Ready: each serves a pair the caBundle trusts')
  const deployment = JSON.parse((await kubectl(cluster, ['get', 'deployment', '-n', 'lameduck-system', 'lameduck', '-o', 'json'])).stdout) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }
  const image = deployment.spec.template.spec.containers[0]!.image
  t.equal(image, published.image, 'the image the packaged chart pins by digest, with no --set image.*')
  await pulledFromRegistry(t, published.image, 'lameduck')
  const registryLog = await readFile(join(cluster.dir, 'registry.log'), 'utf8')
  const chartPulled = new RegExp(`GET /v2/charts/lameduck/manifests/${published.version.replace(/\./g, '\\.')} *$`, 'm')
  t.match(registryLog, chartPulled, 'helm pulled the chart from the registry')
  // Over HTTPS, as a public registry: plain HTTP is answered 400, and helm without the CA refuses it.
  t.equal((await get(`http://${registry.address}/v2/`)).status, 400, 'the registry speaks HTTPS only')
  const untrusted = await runHelm(undefined, ['show', 'chart', ...fromRegistry()])
  t.match(untrusted.stderr, /x509: certificate signed by unknown authority/, 'trusted through its CA only')
  const made = await certificates()
  const issued = new X509Certificate(made.serving).checkIssued(new X509Certificate(made.ca))
  t.ok(issued, 'the Secret shipped empty now holds a pair and its CA')
  t.equal(made.bundle, made.ca, 'that CA in the caBundle')
  const logsOf = ['logs', '-n', 'lameduck-system', '-l', 'app.kubernetes.io/name=lameduck', '--tail=-1', '--prefix']
  const logs = (await kubectl(cluster, logsOf)).stdout
  const renewals = logs.split('\n').filter(line => line.includes('"msg":"certificate renewal: done"'))
  t.equal(renewals.length, 1, 'one replica (the Lease\'s) made them')
  const loading = logs.split('\n').filter(line => line.includes('TLS key pair loaded from the Secret'))
  t.equal(new Set(loading.map(line => line.split(' ')[0])).size, 2, 'both serve them, read through the API server')
  const config = JSON.parse((await kubectl(cluster, ['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])).stdout) as { webhooks: Array<{ clientConfig: { service?: { name: string, namespace: string }, url?: string } }> }
  t.same(config.webhooks[0]!.clientConfig.service, { namespace: 'lameduck-system', name: 'lameduck', path: '/mutate', port: 443 }, 'the API server calls the Service, as shipped')

  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  await kubectl(cluster, ['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=5s'])
  const pod = await until('a Pod in shop to be mutated', async () => {
    const dryRun = ['create', '-n', 'shop', '-f', '-', '-o', 'json', '--dry-run=server']
    const { stdout } = await kubectl(cluster, dryRun, gatedPod)
    const created = JSON.parse(stdout) as Parameters<typeof injected>[0]
    return injected(created) === undefined ? undefined : created
  }, 120_000)
  t.match(injected(pod), /^sleep=5s grace=30s handler=sleep containers=web$/)
  const tested = await helm(t, ['test', 'lameduck', '--namespace', 'lameduck-system', '--logs', '--timeout', '3m'])
  t.match(tested, /^Phase: +Succeeded$/m, 'helm test passes')
  t.notMatch(tested, /^Phase: +Failed$/m)
  t.match(tested, /Pods created in namespace lameduck-verify now are mutated by lameduck/, 'lameduck verify, inside the cluster')
  t.equal((await cluster.kubectl(['get', 'namespace', 'lameduck-verify'])).code, 1, 'its namespace deleted after')
})

t.test('while Pods are created: a rolling restart of lameduck, a CA rotation, a lost replica; every Pod mutated, none refused', async t => {
  const cases: Array<[string, () => Promise<void>]> = [
    ['a rolling restart of lameduck', async () => {
      await kubectl(cluster, ['rollout', 'restart', '-n', 'lameduck-system', 'deployment/lameduck'])
      await slowKubectl(['rollout', 'status', '-n', 'lameduck-system', 'deployment/lameduck', '--timeout=180s'])
      await until('the old replicas to be gone', async () => { const pods = await webhookPods(); return pods.length === 2 && pods.every(p => p.ready) ? true : undefined }, 120_000)
    }],
    ['lameduck certs --rotate-ca', async () => {
      const out = await certs(t, '--rotate-ca', '--wait', '--overlap', '45s')
      t.match(out, /dropping CN=lameduck-ca@\d+ \(replaced by/)
    }],
    ['one replica\'s Pod deleted', async () => {
      const [victim] = await webhookPods()
      await slowKubectl(['delete', 'pod', '-n', 'lameduck-system', victim!.name, '--wait=true', '--timeout=120s'])
      await until('two replicas Ready again', async () => { const pods = await webhookPods(); return pods.length === 2 && pods.every(p => p.ready) ? true : undefined }, 120_000)
    }]
  ]
  for (const [what, disrupt] of cases) {
    const stream = createPods()
    await sleep(2000)
    const started = Date.now()
    await disrupt()
    await sleep(2000)
    const counts = await stream.stop()
    t.comment(`${what}: ${counts.mutated} Pods mutated, ${counts.unmutated} unmutated, ${counts.refused.length} refused in ${((Date.now() - started) / 1000).toFixed(0)} s`)
    t.ok(counts.mutated >= 10, `${what}: ${counts.mutated} Pods created`)
    t.equal(counts.unmutated, 0, `${what}: no Pod created unmutated`)
    t.same(counts.refused, [], `${what}: no Pod refused`)
  }
  await kubectl(cluster, ['delete', 'pods', '--all', '-n', 'shop', '--wait=false'])
})

/** `lameduck check` on manifests/loadtest in `namespace`, as a user runs it. */
async function check (namespace: string): Promise<{ code: number, out: string }> {
  let out = ''
  const io = { stdout: (text: string) => { out += text }, stderr: (text: string) => { out += text }, env: {} }
  const code = await runCli(['check', '--kubeconfig', cluster.kubeconfigPath, '--namespace', namespace, '--deployment', 'loadtest-app', '--service', 'loadtest-app',
    '--rate', '100', '--duration', '40s', '--timeout', '4m'], io)
  return { code, out }
}

t.test('lameduck check against manifests/loadtest: passes with lameduck, fails without it', async t => {
  for (const [namespace, labels] of [['check-with', { 'lameduck.dev/inject': 'enabled' }], ['check-without', {}]] as const) {
    await createNamespace(cluster, namespace, labels)
    await kubectl(cluster, ['annotate', 'namespace', namespace, 'lameduck.dev/prestop-sleep=5s'])
    await kubectl(cluster, ['apply', '-n', namespace, '-k', join(repoRoot, 'manifests/loadtest')])
    // Its own load Job is for a rollout started by hand: this test runs `check`, which starts its own.
    await kubectl(cluster, ['delete', 'job', '-n', namespace, 'lameduck-load', '--wait=false'])
    await slowKubectl(['rollout', 'status', '-n', namespace, 'deployment/loadtest-app', '--timeout=180s'])
    const markers = (await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=loadtest-app', '-o', 'jsonpath={.items[*].metadata.annotations.lameduck\\.dev/injected}'])).stdout
    if (namespace === 'check-with') t.match(markers, /^sleep=5s/, 'the app\'s Pods were mutated')
    else t.equal(markers, '', 'the app\'s Pods were left alone')
  }
  const withLameduck = await check('check-with')
  t.comment(withLameduck.out)
  t.equal(withLameduck.code, 0, 'passes with lameduck')
  t.match(withLameduck.out, /PASS: all \d+ requests succeeded during the rollout/)
  const without = await check('check-without')
  t.comment(without.out)
  t.equal(without.code, 1, 'fails without lameduck')
  t.match(without.out, /FAIL: [1-9]\d* of \d+ requests failed during the rollout/, 'and says how many failed')
})

t.test('helm upgrade while Pods are created (new values, three replicas, a new image): none refused or unmutated, the certificates kept', async t => {
  await pushImage(lameduckLayout, `${registry.address}/lameduck:e2e-2`, registry)
  const before = await certificates()
  const stream = createPods()
  await sleep(2000)
  const upgrade = ['upgrade', 'lameduck', ...fromRegistry(), '--namespace', 'lameduck-system']
  const newImage = ['image.tag=e2e-2', 'image.digest=']
  const upgraded = values(...newImage, 'replicas=3', 'defaults.handler=exec')
  await helm(t, [...upgrade, ...upgraded, '--wait', '--timeout', '5m'])
  const threeReady = async (): Promise<true | undefined> => {
    const pods = await webhookPods()
    return pods.length === 3 && pods.every(p => p.ready) ? true : undefined
  }
  await until('the old replicas to be gone', threeReady, 120_000)
  await sleep(2000)
  const counts = await stream.stop()
  const refused = counts.refused.length
  t.comment(`helm upgrade: ${counts.mutated} Pods mutated, ${counts.unmutated} unmutated, ${refused} refused`)
  t.ok(counts.mutated >= 10, `${counts.mutated} Pods created`)
  t.equal(counts.unmutated, 0, 'no Pod created unmutated')
  t.same(counts.refused, [], 'no Pod refused')
  const json = (await kubectl(cluster, ['get', 'deployment', '-n', 'lameduck-system', 'lameduck', '-o', 'json'])).stdout
  const deployment = JSON.parse(json) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }
  t.equal(deployment.spec.template.spec.containers[0]!.image, `${registry.address}/lameduck:e2e-2`, 'the new image')
  t.same(await certificates(), before, 'the pair, its CA and the caBundle the replicas wrote: untouched by the upgrade')
  const { stdout } = await kubectl(cluster, ['create', '-n', 'shop', '-f', '-', '-o', 'json'], gatedPod)
  t.match(injected(JSON.parse(stdout) as Parameters<typeof injected>[0]), /handler=exec/, 'the new default handler')
})

/** A Pod of lameduck's Deployment, as the fault tests see it. */
interface WebhookPod { name: string, image: string, ready: boolean, waiting?: { reason: string, message?: string } }
interface PodJson {
  metadata: { name: string, deletionTimestamp?: string }
  spec: { containers: Array<{ image: string }> }
  status: {
    conditions?: Array<{ type: string, status: string }>
    containerStatuses?: Array<{ state: { waiting?: WebhookPod['waiting'] } }>
  }
}
interface Condition { type: string, status: string, reason: string, message: string }

/** `kubectl -n lameduck-system ARGS`, its output; throws on a non-zero exit. */
async function inLameduck (...args: string[]): Promise<string> {
  return (await kubectl(cluster, ['-n', 'lameduck-system', ...args])).stdout
}

/** lameduck's Deployment: its Progressing condition, and its Pods' images, readiness and waiting states. */
async function lameduckRollout (): Promise<{ progressing?: Condition, pods: WebhookPod[] }> {
  const get = async (...args: string[]): Promise<unknown> => JSON.parse(await inLameduck('get', ...args, '-o', 'json'))
  const deployment = await get('deployment', 'lameduck') as { status: { conditions?: Condition[] } }
  const items = (await get('pods', '-l', 'app.kubernetes.io/name=lameduck') as { items: PodJson[] }).items
  const pods = items.filter(pod => pod.metadata.deletionTimestamp === undefined).map(pod => {
    const waiting = pod.status.containerStatuses?.[0]?.state.waiting
    const ready = pod.status.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
    const image = pod.spec.containers[0]!.image
    return { name: pod.metadata.name, image, ready, ...(waiting === undefined ? {} : { waiting }) }
  })
  const progressing = deployment.status.conditions?.find(c => c.type === 'Progressing')
  return { ...(progressing === undefined ? {} : { progressing }), pods }
}

/**
 * Starts a rollout of lameduck that cannot pull its image, while Pods are created: the new Pod
 * waits on the pull (its events give the error, matching `message`), the old replicas stay Ready,
 * the Deployment reports that it stopped progressing, every Pod created meanwhile is mutated and
 * none refused; then the rollout is undone.
 */
async function stuckRollout (t: Test, start: () => Promise<void>, message: RegExp): Promise<void> {
  const before = (await webhookPods()).map(p => p.name)
  // The default deadline is 10 minutes: long enough for a slow pull, too long for a test.
  const deadline = '{"spec":{"progressDeadlineSeconds":10}}'
  await inLameduck('patch', 'deployment', 'lameduck', '--type', 'merge', '-p', deadline)
  const stream = createPods()
  await start()
  const stuck = await until('the Deployment to stop progressing', async () => {
    const rollout = await lameduckRollout()
    const waiting = rollout.pods.some(p => p.waiting !== undefined)
    return rollout.progressing?.reason === 'ProgressDeadlineExceeded' && waiting ? rollout : undefined
  }, 120_000)
  const counts = await stream.stop()
  const pod = stuck.pods.find(p => p.waiting !== undefined)!
  t.comment(`${pod.name} (${pod.image}): ${pod.waiting!.reason}: ${pod.waiting!.message ?? ''}`)
  t.match(pod.waiting!.reason, /^(ErrImagePull|ImagePullBackOff)$/, 'the new Pod waits on its image')
  // As kubectl describe shows it (a back-off's waiting message need not carry the error).
  const selector = `involvedObject.name=${pod.name},reason=Failed`
  const events = await inLameduck('get', 'events', '--field-selector', selector, '-o', 'jsonpath={.items[*].message}')
  t.match(events, message, 'the Pod\'s events give the pull\'s error')
  const exceeded = { status: 'False', reason: 'ProgressDeadlineExceeded', message: /has timed out progressing/ }
  t.match(stuck.progressing, exceeded, 'the Deployment reports it stopped progressing')
  const rolloutStatus = ['-n', 'lameduck-system', 'rollout', 'status', 'deployment/lameduck', '--timeout=5s']
  const status = await cluster.kubectl(rolloutStatus)
  t.match(status.stderr, /exceeded its progress deadline/, 'and kubectl rollout status says so')
  t.same(stuck.pods.filter(p => p.ready).map(p => p.name).sort(), before.sort(), 'the old replicas stay, Ready')
  t.ok(counts.mutated >= 5, `${counts.mutated} Pods created meanwhile`)
  t.equal(counts.unmutated, 0, 'none unmutated')
  t.same(counts.refused, [], 'none refused')
  await inLameduck('rollout', 'undo', 'deployment/lameduck')
  await until('the stuck Pod to go', async () => {
    const pods = await webhookPods()
    return pods.length === before.length && pods.every(p => p.ready) ? true : undefined
  }, 120_000)
}

t.test('an upgrade naming a tag the registry lacks: the new Pod cannot pull, the old replicas answer', async t => {
  await stuckRollout(t, async () => {
    await inLameduck('set', 'image', 'deployment/lameduck', `lameduck=${registry.address}/lameduck:0.0.0-missing`)
  }, /lameduck:0\.0\.0-missing.*not found/)
})

t.test('the registry stopped during a rollout that pulls: the same; a Pod of an image the node has starts', async t => {
  const pid = (await readNodesState(cluster.dir))!.pids.find(p => p.name === 'registry')!.pid
  process.kill(pid, 'SIGTERM')
  await until('the registry to stop', async () => isRunning(pid) ? undefined : true)
  // IfNotPresent (the default for a tag) is honoured: the node has the image, nothing is pulled.
  const present = `${registry.address}/lameduck:e2e-2`
  const { phase } = await runOnce(cluster, 'default', 'present', present, ['node', '-e', ''])
  t.equal(phase, 'Succeeded', 'a Pod of an image the node has starts without the registry')
  // Always is honoured too: every new Pod asks the registry, which is gone.
  const always = '[{"op":"replace","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"Always"}]'
  await stuckRollout(t, async () => {
    await inLameduck('patch', 'deployment', 'lameduck', '--type', 'json', '-p', always)
  }, /10\.88\.0\.1:5000.*connection refused/)
})

t.test('helm uninstall while Pods are created: the webhook goes first, none refused, nothing of lameduck left', async t => {
  const stream = createPods()
  await sleep(2000)
  await helm(t, ['uninstall', 'lameduck', '--namespace', 'lameduck-system', '--wait', '--timeout', '3m'])
  await sleep(2000)
  const counts = await stream.stop()
  const after = `${counts.unmutated} unmutated (after the webhook went), ${counts.refused.length} refused`
  t.comment(`helm uninstall: ${counts.mutated} Pods mutated, ${after}`)
  t.same(counts.refused, [], 'no Pod refused')
  t.ok(counts.unmutated > 0, 'Pods go on being created, without lameduck now')
  // The replicas end as any Pod does: their preStop pause, then the drain (about 10 s).
  await until('the replicas to finish', async () => (await webhookPods()).length === 0 ? true : undefined, 60_000)
  const kinds = 'all,secrets,leases,roles,rolebindings,serviceaccounts,configmaps,poddisruptionbudgets'
  const left = (await kubectl(cluster, ['get', kinds, '-n', 'lameduck-system', '-o', 'name'])).stdout
  const everyNamespaceHas = ['configmap/kube-root-ca.crt', 'serviceaccount/default']
  t.same(left.trim().split('\n').sort(), everyNamespaceHas, 'in its namespace, only what Kubernetes puts in every namespace')
  const clusterWide = ['get', 'mutatingwebhookconfigurations,clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/name=lameduck']
  t.equal((await kubectl(cluster, [...clusterWide, '-o', 'name'])).stdout, '', 'no cluster-wide object left')
  t.equal((await cluster.kubectl(['get', 'namespace', 'lameduck-verify'])).code, 1, 'no test namespace')
  t.equal((await helm(t, ['list', '--all-namespaces', '--short'])).trim(), '', 'no release')
  await kubectl(cluster, ['delete', 'pods', '--all', '-n', 'shop', '--wait=false'])
})

t.test('stopping the cluster leaves the machine as it was', async t => {
  await cluster.stop()
  // Holding the node lock: another checkout's node test, waiting for the lock this one just gave
  // back, may start at once.
  const after = await snapshotMachineAlone([cluster.dir], file)
  const { processes, mounts, netns, links, nftRuleset, iptables, cgroups, sysctls, paths } = before
  t.same(after.processes, processes, 'no process of the node')
  t.same(after.mounts, mounts, 'no mount')
  t.same(after.netns, netns, 'no network namespace')
  t.same(after.links, links, 'no link (bridge, veth)')
  t.equal(after.nftRuleset, nftRuleset, 'the same nftables ruleset')
  t.same(after.iptables, iptables, 'the same iptables rules')
  t.same(after.cgroups, cgroups, 'no kubepods cgroup')
  t.same(after.sysctls, sysctls, 'the same kernel settings (ip_forward and the kubelet\'s)')
  t.same(after.paths, paths, 'nothing written outside the node\'s directory')
})
