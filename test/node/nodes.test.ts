// Two real nodes on one machine (startCluster({ nodes: 2 })), each in its own network namespace,
// with lameduck installed as a user installs it (demo/install.ts):
//   - both Ready, and their Pods reach each other across nodes, a Service, and the API server;
//   - lameduck's two replicas land on different nodes;
//   - `kubectl drain` of the node holding the sample app's Pods (and one of lameduck's replicas),
//     under load, with a PodDisruptionBudget: zero failed requests, the Pods on the other node after;
//   - a node lost at once (Cluster.loseNode) while Pods are created: how many are refused
//     (failurePolicy Fail) and created unmutated (Ignore) until the lost endpoint leaves lameduck's
//     Service, and none after; the lost replica replaced after lameduck's 30 s toleration;
//   - the process that started the cluster is killed: the janitor leaves the machine as it was.
// The long matrices (a drain without lameduck, the node-loss layouts) are the demo's. A node test:
// one at a time (npm run test:node).
import t from 'tap'
import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { readNodesState } from '../../control-plane/node/nodes.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { isRunning } from '../../control-plane/processes.js'
import { disrupt } from '../../demo/disrupt.js'
import { installLameduck } from '../../demo/install.js'
import { nodesOfApp, withPodsOn } from '../../demo/placement.js'
import { startPodLoad } from '../../demo/pod-load.js'
import { deployAndReadPods } from '../../demo/workloads.js'
import { kubectl, until } from '../helpers/e2e.js'
import { snapshotMachineAlone } from '../helpers/machine.js'
import { nodeClusterFor, runOnce } from '../helpers/node.js'
import { streamPods, type Creation } from '../helpers/pod-stream.js'
import { failingCopy, lameduckPods, readyPods, podsOf } from '../helpers/two-nodes.js'
import { reachScript, spreadWeb, webhookAnswers } from '../helpers/two-nodes.js'

const log = (line: string): void => { t.comment(line) }
const file = t
const before = await snapshotMachineAlone([], file)
// A stand-in for the process that started the cluster: the last test kills it, as a killed test run dies.
const owner = spawn('sleep', ['3600'], { stdio: 'ignore' })
t.teardown(() => { owner.kill('SIGKILL') })
// A lost node is marked unready after 12 s (the default is 50 s); Pods that set no toleration of it
// are evicted after Kubernetes' default 300 s, lameduck's own after the 30 s its Deployment sets.
const GRACE_SECONDS = 12
const LAMEDUCK_TOLERATION_SECONDS = 30
const nodeLifecycle = { graceSeconds: GRACE_SECONDS, tolerationSeconds: 300 }
const cluster = await nodeClusterFor(t, 900_000, { nodes: 2, ownerPid: owner.pid!, nodeLifecycle })
const [first, second] = cluster.nodes.map(node => node.name) as [string, string]
const kubeConfig = new KubeConfig()
kubeConfig.loadFromFile(cluster.kubeconfigPath)
const core = kubeConfig.makeApiClient(CoreV1Api)

t.test('two Ready nodes whose Pods reach each other, a Service and the API server', async t => {
  const readiness = 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'
  const nodes = (await kubectl(cluster, ['get', 'nodes', '-o', readiness])).stdout.trim()
  t.same(nodes.split(' ').sort(), [`${first}=True`, `${second}=True`].sort())
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(spreadWeb()))
  const pods = await until('a web Pod Ready on each node', async () => {
    const ready = readyPods(await podsOf(cluster, 'default', 'app=web'))
    return ready.length === 2 && new Set(ready.map(p => p.spec.nodeName)).size === 2 ? ready : undefined
  }, 120_000)
  const remote = pods.find(p => p.spec.nodeName === second)!
  const subnet = (pod: typeof remote): string => pod.status.podIP!.split('.').slice(0, 3).join('.')
  t.not(subnet(pods[0]!), subnet(pods[1]!), 'each node has its own Pod CIDR')
  const command = ['node', '--input-type=module', '-e', reachScript(remote.status.podIP!)]
  const probe = await runOnce(cluster, 'default', 'probe', 'lameduck:0.1.0', command, 60_000, { nodeName: first })
  const { phase, log: out } = probe
  t.equal(phase, 'Succeeded', out)
  const result = JSON.parse(out.trim().split('\n').pop()!) as { remote: string, names: string[], status: number }
  t.equal(result.remote, remote.metadata.name, `the Pod on ${second} answered one on ${first} by its address`)
  t.same(result.names, pods.map(p => p.metadata.name).sort(), 'the Service reached both Pods, one on each node')
  t.equal(result.status, 200, 'the API server answered an in-cluster client')
  await kubectl(cluster, ['delete', 'deployment/web', 'service/web', 'pod/probe', '--wait=false'])
})

t.test('lameduck installed: its two replicas on different nodes', async t => {
  await installLameduck(cluster, log)
  const pods = await until('two lameduck replicas Ready', async () => {
    const ready = await lameduckPods(cluster)
    return ready.length === 2 ? ready : undefined
  }, 120_000)
  const nodes = pods.map(p => p.spec.nodeName).sort()
  t.same(nodes, [first, second].sort(), 'one on each node (its topology spread and anti-affinity)')
})

t.test('kubectl drain of the node holding the app\'s Pods and a lameduck replica, under load: zero failed requests', async t => {
  await createNamespace(cluster, 'shop', { 'lameduck.dev/inject': 'enabled' })
  const pause = ['lameduck.dev/prestop-sleep=3s', 'lameduck.dev/shutdown-budget=3s']
  await kubectl(cluster, ['annotate', 'namespace', 'shop', ...pause])
  const app = { scenario: 'drain', replicas: 2, sleepSeconds: 3, nginxBudgetSeconds: 3 } as const
  const stored = await withPodsOn(cluster, first, () => deployAndReadPods(cluster, 'shop', app))
  t.same(await nodesOfApp(cluster, 'shop'), [first], `the app's Pods start on ${first}`)
  t.ok(stored.every(pod => pod.spec.containers[0]!.lifecycle?.preStop !== undefined), 'and have lameduck\'s hook')
  const url = 'http://web.shop.svc/'
  const load = await startPodLoad(cluster, { namespace: 'shop', url, rate: 100, durationSeconds: 45, avoidNode: first })
  await sleep(3000)
  const started = Date.now()
  await disrupt(cluster, core, 'drain', 'shop', log, first)
  const drainSeconds = (Date.now() - started) / 1000
  const report = await load.report()
  const statuses = JSON.stringify(report.statuses)
  const counts = `${report.requests} requests, ${report.failed} failed (${statuses})`
  t.comment(`drain of ${first} in ${drainSeconds.toFixed(0)} s: ${counts}`)
  t.ok(drainSeconds < 40, 'the drain ended while the load still ran')
  t.ok(report.requests >= 3000, `${report.requests} requests`)
  t.equal(report.failed, 0, 'no request failed')
  t.same(await nodesOfApp(cluster, 'shop'), [second], `the app's Pods run on ${second} afterwards`)
  const replacements = readyPods(await podsOf(cluster, 'shop', 'app=web'))
  const mutated = replacements.every(p => /^sleep=3s/.test(p.metadata.annotations?.['lameduck.dev/injected'] ?? ''))
  t.ok(mutated, 'the replacements were mutated, while lameduck lost a replica to the drain')
  const webhook = await until('two lameduck replicas Ready again', async () => {
    const ready = await lameduckPods(cluster)
    return ready.length === 2 ? ready : undefined
  }, 120_000)
  t.same(webhook.map(p => p.spec.nodeName), [second, second], `the drained replica came back on ${second}`)
})

/** Seconds after `from`, one decimal. */
const after = (from: number, at: number): string => `+${((at - from) / 1000).toFixed(1)}s`

/** The creations since the loss (from a second before it) that came out `outcome`. */
const since = (lostAt: number, creations: Creation[], outcome: Creation['outcome']): Creation[] =>
  creations.filter(c => c.startedAt >= lostAt - 1000 && c.outcome === outcome)

/** How many came out `outcome`, of how many, and when the last one was sent and answered. */
function describe (lostAt: number, creations: Creation[], outcome: Creation['outcome']): string {
  const hit = since(lostAt, creations, outcome)
  const last = hit.at(-1)
  const when = last === undefined
    ? ''
    : `, the last sent ${after(lostAt, last.startedAt)} and answered ${after(lostAt, last.endedAt)}`
  const why = hit[0]?.message === undefined ? '' : `: ${hit[0].message.split('\n')[0]!}`
  return `${hit.length} of ${creations.filter(c => c.startedAt >= lostAt).length} Pods ${outcome}${when}${why}`
}

t.test('a node lost while Pods are created: refused (Fail) and unmutated (Ignore) only until its endpoint leaves lameduck\'s Service', async t => {
  // One replica per node again: one of the two that the drain left on the second node is deleted,
  // and comes back on the first.
  const [moved] = (await lameduckPods(cluster)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  await kubectl(cluster, ['delete', 'pod', '-n', 'lameduck-system', moved!.metadata.name, '--wait=false'])
  const spread = await until('a lameduck replica on each node', async () => {
    const ready = (await lameduckPods(cluster)).filter(p => p.metadata.name !== moved!.metadata.name)
    return ready.length === 2 && new Set(ready.map(p => p.spec.nodeName)).size === 2 ? ready : undefined
  }, 180_000)
  const victim = spread.find(p => p.spec.nodeName === first)!
  await createNamespace(cluster, 'shop-fail', { 'lameduck.dev/inject': 'enabled' })
  await failingCopy(cluster, 'shop-fail')
  for (const namespace of ['shop', 'shop-fail']) {
    await until(`a Pod in ${namespace} mutated`, () => webhookAnswers(cluster, namespace))
  }

  const ignore = streamPods(cluster, 'shop')
  const fail = streamPods(cluster, 'shop-fail')
  // Also when a wait below fails: a stream left running keeps the test process alive.
  t.teardown(async () => { await Promise.all([ignore.stop(), fail.stop()]) })
  await sleep(3000)
  const lostAt = Date.now()
  await cluster.loseNode(first)
  const removedAt = await until('the lost replica\'s endpoint to leave lameduck\'s Service', async () => {
    const selector = 'kubernetes.io/service-name=lameduck'
    const args = ['get', 'endpointslices', '-n', 'lameduck-system', '-l', selector, '-o', 'json']
    type Endpoint = { targetRef?: { name?: string }, conditions?: { ready?: boolean } }
    type Slices = { items: Array<{ endpoints?: Endpoint[] }> }
    const slices = (JSON.parse((await kubectl(cluster, args)).stdout) as Slices).items
    const endpoints = slices.flatMap(s => s.endpoints ?? [])
    const there = endpoints.some(e => e.targetRef?.name === victim.metadata.name && e.conditions?.ready !== false)
    return there ? undefined : Date.now()
  }, 120_000)
  const replacedAt = await until('a new lameduck replica Ready on the other node', async () => {
    const fresh = (await lameduckPods(cluster)).filter(p => !spread.some(old => old.metadata.name === p.metadata.name))
    return fresh.some(p => p.spec.nodeName === second) ? Date.now() : undefined
  }, 120_000)
  await sleep(3000)
  const [ignored, failed] = await Promise.all([ignore.stop(), fail.stop()])
  t.comment(`node ${first} lost; its lameduck endpoint left the Service ${after(lostAt, removedAt)} ` +
    `(grace period ${GRACE_SECONDS} s)`)
  t.comment(`failurePolicy Ignore: ${describe(lostAt, ignored, 'unmutated')}`)
  t.comment(`failurePolicy Fail: ${describe(lostAt, failed, 'refused')}`)
  t.comment(`a new replica was Ready on ${second} ${after(lostAt, replacedAt)}`)
  t.ok(removedAt - lostAt < (GRACE_SECONDS + 10) * 1000,
    'the endpoint left within the grace period and a few seconds of the controllers\' work')
  t.ok(replacedAt - lostAt < (GRACE_SECONDS + LAMEDUCK_TOLERATION_SECONDS + 30) * 1000,
    `the lost replica was replaced after lameduck's ${LAMEDUCK_TOLERATION_SECONDS} s toleration, not the default 300 s`)
  // A call that was already waiting on the lost replica ends by the webhook's timeoutSeconds (5 s).
  const settle = removedAt + 1000
  for (const [name, creations, outcome] of [['Ignore', ignored, 'unmutated'], ['Fail', failed, 'refused']] as const) {
    const late = since(lostAt, creations, outcome).filter(c => c.startedAt > settle)
    t.same(late, [], `${name}: no Pod ${outcome} once the endpoint had left`)
    const mutated = creations.filter(c => c.startedAt > settle && c.outcome === 'mutated')
    t.ok(mutated.length >= 5, `${name}: Pods mutated again after it`)
  }
  const crossed = [...since(lostAt, ignored, 'refused'), ...since(lostAt, failed, 'unmutated')]
  t.same(crossed, [], 'Ignore never refuses, Fail never lets one through unmutated')
})

t.test('the process that started the cluster is killed: the janitor leaves the machine as it was', async t => {
  owner.kill('SIGKILL')
  await until('the janitor to stop the nodes and the control plane', async () => {
    const state = await readNodesState(cluster.dir)
    const dir = await access(cluster.dir).then(() => true, () => false)
    return state === undefined && !dir ? true : undefined
  }, 180_000)
  t.same(cluster.pids.filter(isRunning), [], 'etcd, the API server and the controller manager stopped')
  const machine = await snapshotMachineAlone([cluster.dir], file)
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
