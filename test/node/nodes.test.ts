// Two real nodes on one machine (startCluster({ nodes: 2 })), each in its own network namespace,
// with lameduck installed as a user installs it (demo/install.ts):
//   - both Ready, and their Pods reach each other across nodes, a Service, and the API server;
//   - lameduck's two replicas land on different nodes;
//   - `kubectl drain` of the node holding the sample app's Pods (and one of lameduck's replicas),
//     under load, with a PodDisruptionBudget: zero failed requests, the Pods on the other node after;
//   - a node lost at once (lameduck.loseNode) while Pods are created: how many are refused
//     (failurePolicy Fail) and created unmutated (Ignore) until the lost endpoint leaves lameduck's
//     Service, and none after;
//   - the process that started the cluster is killed: the janitor leaves the machine as it was.
// The long matrices (a drain without lameduck, the node-loss layouts) are the demo's. A node test:
// one at a time (npm run test:node).
import t from 'tap'
import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { readNodesState } from '../../control-plane/node/nodes.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { isRunning } from '../../control-plane/processes.js'
import { disrupt } from '../../demo/disrupt.js'
import { installLameduck } from '../../demo/install.js'
import { nodesOfApp, withPodsOn } from '../../demo/placement.js'
import { startPodLoad } from '../../demo/pod-load.js'
import { deployAndReadPods } from '../../demo/workloads.js'
import { injected, kubectl, until } from '../helpers/e2e.js'
import { snapshotMachineAlone } from '../helpers/machine.js'
import { nodeClusterFor, runOnce } from '../helpers/node.js'
import { streamPods, type Creation } from '../helpers/pod-stream.js'

const log = (line: string): void => { t.comment(line) }
const before = await snapshotMachineAlone([], log)
// A stand-in for the process that started the cluster: the last test kills it, as a killed test run would die.
const owner = spawn('sleep', ['3600'], { stdio: 'ignore' })
t.teardown(() => { owner.kill('SIGKILL') })
// A lost node is marked unready after 12 s (the default is 50 s); its Pods are not evicted during the test.
const GRACE_SECONDS = 12
const cluster = await nodeClusterFor(t, 900_000, { nodes: 2, ownerPid: owner.pid!, nodeLifecycle: { graceSeconds: GRACE_SECONDS, tolerationSeconds: 120 } })
const [first, second] = cluster.nodes.map(node => node.name) as [string, string]
const kubeConfig = new KubeConfig()
kubeConfig.loadFromFile(cluster.kubeconfigPath)
const core = kubeConfig.makeApiClient(CoreV1Api)

interface PodJson { metadata: { name: string, deletionTimestamp?: string, annotations?: Record<string, string> }, spec: { nodeName?: string }, status: { podIP?: string, conditions?: Array<{ type: string, status: string }> } }
const podsOf = async (namespace: string, selector: string): Promise<PodJson[]> =>
  (JSON.parse((await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).stdout) as { items: PodJson[] }).items
const readyPods = (pods: PodJson[]): PodJson[] => pods.filter(p => p.metadata.deletionTimestamp === undefined && p.status.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true)
const lameduckPods = async (): Promise<PodJson[]> => readyPods(await podsOf('lameduck-system', 'app.kubernetes.io/name=lameduck'))

t.test('two Ready nodes whose Pods reach each other, a Service and the API server', async t => {
  const nodes = (await kubectl(cluster, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'])).stdout.trim()
  t.same(nodes.split(' ').sort(), [`${first}=True`, `${second}=True`])
  const web = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
          containers: [{ name: 'web', image: AGNHOST_IMAGE, imagePullPolicy: 'Never', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }]
        }
      }
    }
  }
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [web, service] }))
  const pods = await until('a web Pod Ready on each node', async () => {
    const ready = readyPods(await podsOf('default', 'app=web'))
    return ready.length === 2 && new Set(ready.map(p => p.spec.nodeName)).size === 2 ? ready : undefined
  }, 120_000)
  const remote = pods.find(p => p.spec.nodeName === second)!
  t.not(pods[0]!.status.podIP!.split('.').slice(0, 3).join('.'), pods[1]!.status.podIP!.split('.').slice(0, 3).join('.'), 'each node has its own Pod CIDR')
  // From a Pod on the first node: the second node's Pod by its address, the Service (both Pods answer), the API server.
  const script = `
    const get = async url => (await fetch(url, { signal: AbortSignal.timeout(3000) })).text()
    const remote = await get('http://${remote.status.podIP}:8080/hostname')
    const names = new Set()
    for (let i = 0; i < 20; i++) names.add(await get('http://web.default.svc/hostname'))
    const fs = await import('node:fs')
    const ca = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', 'utf8')
    const token = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8')
    const https = await import('node:https')
    const status = await new Promise((resolve, reject) => https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: '/version', ca, servername: 'kubernetes.default.svc', headers: { authorization: 'Bearer ' + token } }, res => { res.resume(); resolve(res.statusCode) }).on('error', reject))
    console.log(JSON.stringify({ remote, names: [...names].sort(), status }))`
  const { phase, log: out } = await runOnce(cluster, 'default', 'probe', 'lameduck:0.1.0', ['node', '--input-type=module', '-e', script], 60_000, { nodeName: first })
  t.equal(phase, 'Succeeded', out)
  const result = JSON.parse(out.trim().split('\n').pop()!) as { remote: string, names: string[], status: number }
  t.equal(result.remote, remote.metadata.name, `the Pod on ${second} answered one on ${first} by its address`)
  t.same(result.names, pods.map(p => p.metadata.name).sort(), 'the Service reached both Pods, one on each node')
  t.equal(result.status, 200, 'the API server answered an in-cluster client')
  await kubectl(cluster, ['delete', 'deployment/web', 'service/web', 'pod/probe', '--wait=false'])
})

t.test('lameduck installed: its two replicas on different nodes', async t => {
  await installLameduck(cluster, log)
  const pods = await until('two lameduck replicas Ready', async () => { const ready = await lameduckPods(); return ready.length === 2 ? ready : undefined }, 120_000)
  t.same(pods.map(p => p.spec.nodeName).sort(), [first, second].sort(), 'one on each node (its topology spread and anti-affinity)')
})

t.test('kubectl drain of the node holding the app\'s Pods and a lameduck replica, under load: zero failed requests', async t => {
  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  await kubectl(cluster, ['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=3s', 'lameduck.dev/shutdown-budget=3s'])
  const stored = await withPodsOn(cluster, first, () => deployAndReadPods(cluster, 'shop', { scenario: 'drain', replicas: 2, sleepSeconds: 3, nginxBudgetSeconds: 3 }))
  t.same(await nodesOfApp(cluster, 'shop'), [first], `the app's Pods start on ${first}`)
  t.ok(stored.every(pod => pod.spec.containers[0]!.lifecycle?.preStop !== undefined), 'and have lameduck\'s hook')
  const load = await startPodLoad(cluster, { namespace: 'shop', url: 'http://web.shop.svc/', rate: 100, durationSeconds: 45, avoidNode: first })
  await sleep(3000)
  const started = Date.now()
  await disrupt(cluster, core, 'drain', 'shop', log, first)
  const drainSeconds = (Date.now() - started) / 1000
  const report = await load.report()
  t.comment(`drain of ${first} in ${drainSeconds.toFixed(0)} s: ${report.requests} requests, ${report.failed} failed (${JSON.stringify(report.statuses)})`)
  t.ok(drainSeconds < 40, 'the drain ended while the load still ran')
  t.ok(report.requests >= 3000, `${report.requests} requests`)
  t.equal(report.failed, 0, 'no request failed')
  t.same(await nodesOfApp(cluster, 'shop'), [second], `the app's Pods run on ${second} afterwards`)
  const replacements = readyPods(await podsOf('shop', 'app=web'))
  t.ok(replacements.every(p => /^sleep=3s/.test(p.metadata.annotations?.['lameduck.dev/injected'] ?? '')), 'the replacements were mutated, while lameduck lost a replica to the drain')
  const webhook = await until('two lameduck replicas Ready again', async () => { const ready = await lameduckPods(); return ready.length === 2 ? ready : undefined }, 120_000)
  t.same(webhook.map(p => p.spec.nodeName), [second, second], `the drained replica came back on ${second}`)
})

/** Seconds after `from`, one decimal. */
const after = (from: number, at: number): string => `+${((at - from) / 1000).toFixed(1)}s`

t.test('a node lost while Pods are created: refused (Fail) and unmutated (Ignore) only until its endpoint leaves lameduck\'s Service', async t => {
  // One replica per node again: the one that came back on the second node is moved by deleting it.
  const [moved] = (await lameduckPods()).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  await kubectl(cluster, ['delete', 'pod', '-n', 'lameduck-system', moved!.metadata.name, '--wait=false'])
  const spread = await until('a lameduck replica on each node', async () => {
    const ready = (await lameduckPods()).filter(p => p.metadata.name !== moved!.metadata.name)
    return ready.length === 2 && new Set(ready.map(p => p.spec.nodeName)).size === 2 ? ready : undefined
  }, 180_000)
  const victim = spread.find(p => p.spec.nodeName === first)!
  // failurePolicy Fail for a second namespace: a copy of the Pod webhook selecting it alone, the original told to skip it.
  await createNamespace(cluster, 'shop-fail', { 'lameduck.dev/inject': 'enabled' })
  const config = JSON.parse((await kubectl(cluster, ['get', 'mutatingwebhookconfiguration', 'lameduck', '-o', 'json'])).stdout) as { webhooks: Array<Record<string, unknown> & { name: string }> }
  const pods = config.webhooks.find(w => w.name === 'pods.lameduck.dev')!
  const failing = { ...pods, name: 'pods-fail.lameduck.dev', failurePolicy: 'Fail', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop-fail' } } }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'lameduck-fail' }, webhooks: [failing] }))
  const index = config.webhooks.indexOf(pods)
  await kubectl(cluster, ['patch', 'mutatingwebhookconfiguration', 'lameduck', '--type=json', '-p', JSON.stringify([{ op: 'add', path: `/webhooks/${index}/namespaceSelector/matchExpressions/0/values/-`, value: 'shop-fail' }])])
  for (const namespace of ['shop', 'shop-fail']) {
    await until(`a Pod in ${namespace} mutated`, async () => {
      const { stdout } = await cluster.kubectl(['create', '--dry-run=server', '-n', namespace, '-f', '-', '-o', 'json'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec: { containers: [{ name: 'web', image: AGNHOST_IMAGE }] } }) })
      return stdout !== '' && injected(JSON.parse(stdout) as Parameters<typeof injected>[0]) !== undefined ? true : undefined
    })
  }

  const ignore = streamPods(cluster, 'shop')
  const fail = streamPods(cluster, 'shop-fail')
  await sleep(3000)
  const lostAt = Date.now()
  await cluster.loseNode(first)
  const slices = async (): Promise<string> => (await kubectl(cluster, ['get', 'endpointslices', '-n', 'lameduck-system', '-l', 'kubernetes.io/service-name=lameduck', '-o', 'json'])).stdout
  const removedAt = await until('the lost replica\'s endpoint to leave lameduck\'s Service', async () => {
    const endpoints = (JSON.parse(await slices()) as { items: Array<{ endpoints?: Array<{ targetRef?: { name?: string }, conditions?: { ready?: boolean } }> }> }).items.flatMap(s => s.endpoints ?? [])
    return endpoints.some(e => e.targetRef?.name === victim.metadata.name && e.conditions?.ready !== false) ? undefined : Date.now()
  }, 120_000)
  await sleep(10_000)
  const [ignored, failed] = await Promise.all([ignore.stop(), fail.stop()])
  const bad = (creations: Creation[], outcome: Creation['outcome']): Creation[] => creations.filter(c => c.startedAt >= lostAt - 1000 && c.outcome === outcome)
  const describe = (creations: Creation[], outcome: Creation['outcome']): string => {
    const hit = bad(creations, outcome)
    const last = hit.at(-1)
    return `${hit.length} of ${creations.filter(c => c.startedAt >= lostAt).length} Pods ${outcome}${last === undefined ? '' : `, the last sent ${after(lostAt, last.startedAt)} and answered ${after(lostAt, last.endedAt)}`}`
  }
  t.comment(`node ${first} lost; its lameduck endpoint left the Service ${after(lostAt, removedAt)} (--node-monitor-grace-period ${GRACE_SECONDS} s)`)
  t.comment(`failurePolicy Ignore: ${describe(ignored, 'unmutated')}`)
  t.comment(`failurePolicy Fail: ${describe(failed, 'refused')}${bad(failed, 'refused')[0]?.message === undefined ? '' : `: ${bad(failed, 'refused')[0]!.message!.split('\n')[0]!}`}`)
  t.ok(removedAt - lostAt < (GRACE_SECONDS + 10) * 1000, 'the endpoint left within the grace period and a few seconds of the controllers\' work')
  // A call that was already waiting on the lost replica ends by the webhook's timeoutSeconds (5 s).
  const settle = removedAt + 1000
  for (const [name, creations, outcome] of [['Ignore', ignored, 'unmutated'], ['Fail', failed, 'refused']] as const) {
    t.same(bad(creations, outcome).filter(c => c.startedAt > settle), [], `${name}: no Pod ${outcome} once the endpoint had left`)
    t.ok(creations.filter(c => c.startedAt > settle && c.outcome === 'mutated').length >= 5, `${name}: Pods mutated again after it`)
  }
  t.same([...bad(ignored, 'refused'), ...bad(failed, 'unmutated')], [], 'Ignore never refuses, Fail never lets one through unmutated')
})

t.test('the process that started the cluster is killed: the janitor leaves the machine as it was', async t => {
  owner.kill('SIGKILL')
  await until('the janitor to stop the nodes and the control plane', async () => await readNodesState(cluster.dir) === undefined && await access(cluster.dir).then(() => false, () => true) ? true : undefined, 180_000)
  t.same(cluster.pids.filter(isRunning), [], 'etcd, the API server and the controller manager stopped')
  const machine = await snapshotMachineAlone([cluster.dir], log)
  const { processes, mounts, netns, links, nftRuleset, iptables, cgroups, sysctls, paths } = before
  t.same(machine.processes, processes, 'no process of any node')
  t.same(machine.mounts, mounts, 'no mount')
  t.same(machine.netns, netns, 'no network namespace (the nodes\' and their Pods\')')
  t.same(machine.links, links, 'no link (bridge, veth)')
  t.equal(machine.nftRuleset, nftRuleset, 'the same nftables ruleset')
  t.same(machine.iptables, iptables, 'the same iptables rules')
  t.same(machine.cgroups, cgroups, 'no node cgroup')
  t.same(machine.sysctls, sysctls, 'the same kernel settings')
  t.same(machine.paths, paths, 'nothing written outside the nodes\' directories')
})
