// What real manifests need, through the real kube-apiserver with `lameduck serve` registered as
// shipped: a bare Pod's manifest applied again (client-side and server-side) never breaks, and
// `lameduck preview` of a multi-document install file goes back to kubectl unchanged.
import t from 'tap'
import { spawn } from 'node:child_process'
import { text } from 'node:stream/consumers'
import { stringify } from 'yaml'
import { OPTED_IN, clusterFor, kubectl, namespace, registerWebhook, startWebhook, untilMutated, warningsIn, type Pod } from '../helpers/e2e.js'

const cluster = await clusterFor(t, 300_000)
const webhook = await startWebhook(t, cluster)
await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
await namespace(cluster, 'shop', OPTED_IN)
await untilMutated(cluster, 'shop', /^sleep=15s/)

const pause = 'registry.k8s.io/pause:3.10'
const barePod = (name: string, grace?: number): string => stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', annotations: { 'lameduck.dev/prestop-sleep': '20s' } },
  spec: { ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }), containers: [{ name: 'web', image: pause }] }
})

async function stored (name: string): Promise<Pod> {
  return JSON.parse((await kubectl(cluster, ['get', 'pod', name, '-n', 'shop', '-o', 'json'])).stdout) as Pod
}

t.test('a bare Pod applied twice: the second apply succeeds, client-side and server-side', async t => {
  const modes: Array<[string, string[], RegExp]> = [
    ['client-side', ['apply'], /^pod\/\S+ (unchanged|configured)$/m],
    ['server-side', ['apply', '--server-side'], /^pod\/\S+ serverside-applied$/m]
  ]
  for (const [mode, args, second] of modes) {
    t.test(`${mode}, a manifest with terminationGracePeriodSeconds: 5`, async t => {
      const name = `short-${mode}`
      const first = await kubectl(cluster, [...args, '-f', '-'], barePod(name, 5))
      t.match(warningsIn(first.stderr), [/terminationGracePeriodSeconds 5 is set by this Pod's own manifest .* kept .*preStop sleep shortened from 20s to 4s/])
      const pod = await stored(name)
      t.equal(pod.spec.terminationGracePeriodSeconds, 5, 'the manifest\'s grace period is kept')
      t.same(pod.spec.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 4 } } }, 'the sleep fits under it')
      const again = await cluster.kubectl([...args, '-f', '-'], { input: barePod(name, 5) })
      t.equal(again.code, 0, `the second apply succeeds: ${again.stderr.trim()}`)
      t.match(again.stdout, second)
    })
    t.test(`${mode}, a manifest without a grace period: raised, and applied again`, async t => {
      const name = `plain-${mode}`
      await kubectl(cluster, [...args, '-f', '-'], barePod(name))
      const again = await cluster.kubectl([...args, '-f', '-'], { input: barePod(name) })
      t.equal(again.code, 0, `the second apply succeeds: ${again.stderr.trim()}`)
      t.equal((await stored(name)).metadata?.annotations?.['lameduck.dev/injected'], 'sleep=20s grace=35s handler=sleep containers=web', 'raised to 35 and kept')
    })
  }
})

async function previewOf (input: string): Promise<{ out: string, err: string }> {
  const child = spawn(process.execPath, [...process.execArgv, 'test/helpers/run-cli.ts', 'preview', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(input)
  const [out, err, code] = await Promise.all([text(child.stdout), text(child.stderr), new Promise(resolve => child.on('exit', resolve))])
  if (code !== 0) throw new Error(`lameduck preview exited ${String(code)}: ${err}`)
  return { out, err }
}

t.test('preview of a multi-document install file goes back to kubectl create --dry-run=server unchanged', async t => {
  const install = `apiVersion: v1
kind: ConfigMap
metadata: { name: redis-flags, namespace: shop, annotations: { tracing: "on" } }
data: { appendonly: "no", debug: "off", "y": "yes", mode: "0o17", count: "1_000", since: "2024-01-01", empty: "~" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: redis, namespace: shop }
spec:
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis }, annotations: { sidecar: "off" } }
    spec:
      containers:
        - name: redis
          image: redis:7
          args: ["--appendonly", "no", "--save", "", "--loglevel", "n"]
          env: [{ name: DEBUG, value: "y" }, { name: PORT, value: "6379" }]
---
apiVersion: v1
kind: Service
metadata: { name: redis, namespace: shop }
spec: { selector: { app: redis }, ports: [{ port: 6379 }] }
`
  const { out, err } = await previewOf(install)
  t.match(err, /2 objects have no Pod template, printed unchanged: 1 ConfigMap, 1 Service/)
  const created = await cluster.kubectl(['create', '--dry-run=server', '-f', '-', '-o', 'json'], { input: out })
  t.equal(created.code, 0, `kubectl accepts the preview: ${created.stderr.trim()}`)
  // One JSON object per created object, one after the other.
  const items = created.stdout.trim().split(/(?<=^\})\n(?=\{$)/m).map(json => JSON.parse(json) as { kind: string, data?: Record<string, string>, spec?: { template: Pod } })
  t.same(items.map(i => i.kind), ['ConfigMap', 'Deployment', 'Service'])
  t.same(items[0]!.data, { appendonly: 'no', debug: 'off', y: 'yes', mode: '0o17', count: '1_000', since: '2024-01-01', empty: '~' }, 'every string arrives as the string it was')
  const redis = items[1]!.spec!.template.spec.containers[0]!
  t.same(redis.args, ['--appendonly', 'no', '--save', '', '--loglevel', 'n'])
  t.same(redis.lifecycle, { preStop: { sleep: { seconds: 15 } } }, 'with the preview\'s injection')
})

const deploymentYaml = (replicas: number): string => stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'shopfront', namespace: 'shop' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'shopfront' } },
    template: { metadata: { labels: { app: 'shopfront' } }, spec: { containers: [{ name: 'web', image: pause, ports: [{ containerPort: 8080 }] }] } }
  }
})
const NO_PROBE = 'lameduck: Pods of this Deployment: container "web" has ports but no readinessProbe: a new Pod gets traffic before it is ready, so a rollout drops requests even with lameduck'
const ONE_REPLICA = 'lameduck: Pods of this Deployment: 1 replica: a drain, an eviction or a lost node leaves nothing to serve until a new Pod is Ready, and no pause covers that; run 2 or more'
const NOT_SPREAD = 'lameduck: Pods of this Deployment: 2 replicas, not spread over nodes (no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname): draining or losing one node may stop them all at once'

// Last: it changes the namespace's annotations.
t.test('kubectl apply of a Deployment prints the warnings its Pods get, and a namespace change shows on the next apply', async t => {
  const first = await kubectl(cluster, ['apply', '-f', '-'], deploymentYaml(1))
  t.match(first.stdout, /deployment.apps\/shopfront created/)
  t.same(warningsIn(first.stderr), [NO_PROBE, ONE_REPLICA], 'the person who applied it sees the advice')
  await kubectl(cluster, ['annotate', 'namespace', 'shop', 'lameduck.dev/prestop-sleep=40s'])
  await untilMutated(cluster, 'shop', /^sleep=40s/)
  const second = await kubectl(cluster, ['apply', '-f', '-'], deploymentYaml(2))
  t.match(second.stdout, /deployment.apps\/shopfront configured/)
  t.same(warningsIn(second.stderr), [
    'lameduck: Pods of this Deployment: terminationGracePeriodSeconds raised from 30 to 55 (preStop sleep 40s + shutdown budget 15s)',
    NO_PROBE,
    NOT_SPREAD
  ], 'the namespace\'s new sleep, on the next apply')
  const server = await kubectl(cluster, ['apply', '--server-side', '-f', '-'], deploymentYaml(2))
  t.same(warningsIn(server.stderr).length, 3, 'server-side apply too')
  const rs = await kubectl(cluster, ['get', 'replicasets', '-n', 'shop', '-l', 'app=shopfront', '-o', 'name'])
  t.match(rs.stdout, /replicaset/, 'the Deployment made its ReplicaSet (not reviewed: a controller owns it)')
  const reasons = webhook.log().split('\n').filter(line => line.includes('"msg":"admission"')).map(line => (JSON.parse(line) as { reason: string }).reason)
  t.notOk(reasons.some(reason => reason.startsWith('ReplicaSet')), 'the API server did not even send the ReplicaSet')
  t.ok(reasons.includes('Deployment reviewed: its Pods get the hook'))
})
