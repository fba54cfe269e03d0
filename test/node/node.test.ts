// A real node next to the local control plane, as `startCluster({ node: true })` gives it: Pods run
// on a real kubelet through containerd, runc and the CNI bridge, their images (and the sandbox's)
// pulled from the node's registry under the names users write; a Service answers through
// kube-proxy's ClusterIP, by its cluster DNS name, from a Pod; a Pod reaches the API server as an
// in-cluster client with its ServiceAccount; the guard rules keep Pods off the node's own ports.
// Then lameduck installed as a user installs it (its image from the Dockerfile pushed to a
// registry, `kubectl apply -k` with kustomize `images:`, `lameduck certs --apply`), called by the
// API server through its Service, and kept working through a rolling restart of itself, a CA
// rotation and a lost replica while Pods are created; and `lameduck check` against
// manifests/loadtest, which passes with lameduck and fails without it. Then the faults on the way
// in: an upgrade naming a tag the registry lacks, and the registry stopped during a rollout that
// pulls. Last, stopping it leaves the machine exactly as it was. One node
// per machine: the node tests run one file at a time (npm run test:node), and this file shares one
// node across its cases.
import t, { type Test } from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { NODE } from '../../control-plane/node/config.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { lameduckLayout } from '../../control-plane/images/lameduck-image.js'
import { pushImage } from '../../control-plane/images/push.js'
import { ctr } from '../../control-plane/node/node.js'
import { repoRoot } from '../../control-plane/paths.js'
import { isRunning } from '../../control-plane/processes.js'
import { runCerts } from '../../certs-script/main.js'
import { runCli } from '../../src/cli/main.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { injected, kubectl, until } from '../helpers/e2e.js'
import { snapshotMachine } from '../helpers/machine.js'
import { nodeClusterFor, runOnce } from '../helpers/node.js'

const before = await snapshotMachine()
const cluster = await nodeClusterFor(t, 600_000)
const node = cluster.node!

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
    t.match(pod.status.podIP, /^10\.88\.0\.\d+$/, 'an address on the Pod bridge')
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
    try { await fetch('https://${NODE.gateway}:${NODE.kubeletPort}/healthz', { signal: AbortSignal.timeout(2000) }) } catch (err) { kubelet = String(err.cause?.code ?? err.name) }
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
  const registryLog = await readFile(join(node.state.dir, 'registry.log'), 'utf8')
  const tag = ref.slice(ref.lastIndexOf(':') + 1)
  const resolved = new RegExp(`(HEAD|GET) /v2/${repo}/manifests/${escape(tag)}(\\?ns=\\S+)? *$`, 'm')
  t.match(registryLog, resolved, `the registry resolved ${repo}:${tag}`)
  const containerdLog = await readFile(join(node.state.dir, 'containerd.log'), 'utf8')
  t.notMatch(containerdLog, /failed to decode hosts\.toml|trying next host/, 'containerd asked no other host')
}

/** kubectl for the slow waits (`rollout status`): the helper's 30 s limit is too short for them. */
async function slowKubectl (args: string[]): Promise<string> {
  const result = await cluster.kubectl(args, { timeoutMs: 240_000 })
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

/** `lameduck certs ARGS` against the cluster, as a user runs it; its lines go to the TAP comments. */
async function certs (t: Test, ...args: string[]): Promise<string> {
  let out = ''
  const io = { stdout: (text: string) => { out += text; t.comment(text.trimEnd()) }, stderr: (text: string) => { out += text; t.comment(text.trimEnd()) }, env: {} }
  t.equal(await runCerts(['--kubeconfig', cluster.kubeconfigPath, ...args], io), 0, `lameduck certs ${args.join(' ')}`)
  return out
}

/** lameduck's Pods, by name, with whether they are Ready and not leaving. */
async function webhookPods (): Promise<Array<{ name: string, ready: boolean }>> {
  const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', 'lameduck-system', '-l', 'app.kubernetes.io/name=lameduck', '-o', 'json'])
  const pods = (JSON.parse(stdout) as { items: Array<{ metadata: { name: string, deletionTimestamp?: string }, status: { conditions?: Array<{ type: string, status: string }> } }> }).items
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

t.test('installed as a user installs it: apply -k with images:, certs --apply, two replicas Ready, called through the Service', async t => {
  // The image from the Dockerfile, pushed to a registry under the name a user's kustomization gives it.
  await pushImage(lameduckLayout, `${node.registry}/lameduck:0.1.0`, node.registry)
  const overlay = t.testdir({})
  const images = `images:\n  - name: lameduck\n    newName: ${node.registry}/lameduck\n    newTag: 0.1.0\n`
  const resources = `resources:\n  - ${relative(overlay, join(repoRoot, 'manifests'))}\n`
  await writeFile(join(overlay, 'kustomization.yaml'), `${resources}${images}`)
  await kubectl(cluster, ['apply', '-k', overlay])
  t.match(await certs(t), /CA CN=lameduck-ca@\d+: new/)
  await slowKubectl(['rollout', 'status', '-n', 'lameduck-system', 'deployment/lameduck', '--timeout=180s'])
  const pods = await webhookPods()
  t.equal(pods.filter(p => p.ready).length, 2, 'two replicas Ready')
  const deployment = JSON.parse((await kubectl(cluster, ['get', 'deployment', '-n', 'lameduck-system', 'lameduck', '-o', 'json'])).stdout) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }
  t.equal(deployment.spec.template.spec.containers[0]!.image, `${node.registry}/lameduck:0.1.0`, 'the image kustomize set')
  await pulledFromRegistry(t, `${node.registry}/lameduck:0.1.0`, 'lameduck')
  const config = JSON.parse((await kubectl(cluster, ['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])).stdout) as { webhooks: Array<{ clientConfig: { service?: { name: string, namespace: string }, url?: string } }> }
  t.same(config.webhooks[0]!.clientConfig.service, { namespace: 'lameduck-system', name: 'lameduck', path: '/mutate', port: 443 }, 'the API server calls the Service, as shipped')

  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  await kubectl(cluster, ['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=5s'])
  const pod = await until('a Pod in shop to be mutated', async () => {
    const { stdout } = await kubectl(cluster, ['create', '-n', 'shop', '-f', '-', '-o', 'json'], gatedPod)
    const created = JSON.parse(stdout) as Parameters<typeof injected>[0]
    return injected(created) === undefined ? undefined : created
  }, 120_000)
  t.match(injected(pod), /^sleep=5s grace=30s handler=sleep containers=web$/)
  const logs = (await kubectl(cluster, ['logs', '-n', 'lameduck-system', '-l', 'app.kubernetes.io/name=lameduck', '--tail=-1'])).stdout
  t.match(logs, /"msg":"admission"/, 'the replicas logged the admission')
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
    return pods.length === 2 && pods.every(p => p.ready) ? true : undefined
  }, 120_000)
}

t.test('an upgrade naming a tag the registry lacks: the new Pod cannot pull, the old replicas answer', async t => {
  await stuckRollout(t, async () => {
    await inLameduck('set', 'image', 'deployment/lameduck', `lameduck=${node.registry}/lameduck:0.0.0-missing`)
  }, /lameduck:0\.0\.0-missing.*not found/)
})

t.test('the registry stopped during a rollout that pulls: the same; a Pod of an image the node has starts', async t => {
  const registry = node.state.pids.find(p => p.name === 'registry')!.pid
  process.kill(registry, 'SIGTERM')
  await until('the registry to stop', async () => isRunning(registry) ? undefined : true)
  // IfNotPresent (the default for a tag) is honoured: the node has the image, nothing is pulled.
  const { phase } = await runOnce(cluster, 'default', 'present', `${node.registry}/lameduck:0.1.0`, ['node', '-e', ''])
  t.equal(phase, 'Succeeded', 'a Pod of an image the node has starts without the registry')
  // Always is honoured too: every new Pod asks the registry, which is gone.
  const always = '[{"op":"replace","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"Always"}]'
  await stuckRollout(t, async () => {
    await inLameduck('patch', 'deployment', 'lameduck', '--type', 'json', '-p', always)
  }, /10\.88\.0\.1:5000.*connection refused/)
})

t.test('stopping the cluster leaves the machine as it was', async t => {
  await cluster.stop()
  const after = await snapshotMachine([cluster.dir])
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
