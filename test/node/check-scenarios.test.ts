// `lameduck check --scenario scale-in|evict` against a user's Deployment on a real node: the scale-in
// scales it to 1 and back to what it was (also when interrupted), the evictions go through the
// Eviction API one Pod at a time with the Deployment's PodDisruptionBudget honoured, and each run
// ends with the load report and a verdict. Without lameduck in this cluster, a verdict may be PASS
// or FAIL (agnhost netexec exits at once on SIGTERM, and kube-proxy usually forgets a deleted Pod
// first): this file checks what the scenarios do to the Deployment, demo tests what they do to requests.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { runCli } from '../../src/cli/main.js'
import { runCheckCommand, realClock } from '../../src/check/command.js'
import type { SignalTarget } from '../../src/check/scenario.js'
import { kubectl, until } from '../helpers/e2e.js'
import { nodeClusterFor } from '../helpers/node.js'

const cluster = await nodeClusterFor(t, 12 * 60_000)
const NS = 'check-scenarios'
await createNamespace(cluster, NS)
const objects = [
  {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 3,
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
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: NS }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } }
]
await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
await kubectl(cluster, ['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=120s'])

const FLAGS = ['--kubeconfig', cluster.kubeconfigPath, '--namespace', NS, '--deployment', 'web', '--service', 'web', '--rate', '20', '--duration', '25s', '--timeout', '3m']
const replicas = async (): Promise<number> => Number((await kubectl(cluster, ['get', 'deployment/web', '-n', NS, '-o', 'jsonpath={.spec.replicas}'])).stdout)
const podNames = async (): Promise<string[]> => (await kubectl(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean).sort()

async function check (scenario: string): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(['check', ...FLAGS, '--scenario', scenario], { stdout: s => { out += s }, stderr: s => { err += s }, env: {} })
  return { code, out, err }
}

t.test('scale-in: to 1 replica under load, then back to 3, with the report and a verdict', async t => {
  const run = await check('scale-in')
  t.comment(run.err)
  t.ok(run.code === 0 || run.code === 1, `exit ${run.code}: a verdict, not an error`)
  t.match(run.out, /(PASS|FAIL): /)
  t.match(run.err, /scaled deployment check-scenarios\/web from 3 replicas to 1/)
  t.match(run.err, /scaled deployment check-scenarios\/web back to 3 replicas/)
  t.equal(await replicas(), 3, 'the replicas are what they were')
  await kubectl(cluster, ['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=120s'])
})

t.test('evict: each Pod through the Eviction API, the budget waited for, replaced by the Deployment', async t => {
  const before = await podNames()
  const run = await check('evict')
  t.comment(run.err)
  t.ok(run.code === 0 || run.code === 1, `exit ${run.code}: a verdict, not an error`)
  for (const pod of before) t.match(run.err, `evicted ${pod} (policy/v1 Eviction)`)
  t.match(run.err, /refused for now by a PodDisruptionBudget \(429\)/, 'maxUnavailable 1: the next eviction waits for a replacement')
  const after = await podNames()
  t.equal(after.length, 3)
  t.same(after.filter(pod => before.includes(pod)), [], 'every Pod was replaced')
  t.equal(await replicas(), 3)
})

t.test('Ctrl-C during a scale-in: the replicas are put back before the exit', async t => {
  const signals = Object.assign(new EventEmitter(), { exits: [] as number[], exit (code: number) { signals.exits.push(code) } }) satisfies SignalTarget
  let err = ''
  const io = { stdout: () => {}, stderr: (s: string) => { err += s }, env: {} }
  const running = runCheckCommand([...FLAGS.slice(0, 8), '--duration', '60s', '--scenario', 'scale-in'], io, undefined, realClock, signals)
  running.catch(() => {})
  await until('the scale-in', async () => /from 3 replicas to 1/.test(err) ? true : undefined, 120_000)
  t.equal(await replicas(), 1, 'scaled in')
  signals.emit('SIGINT')
  await until('the exit', async () => signals.exits.length > 0 ? true : undefined, 30_000)
  t.same(signals.exits, [130])
  t.equal(await replicas(), 3, 'put back before exiting')
  t.match(err, /interrupted: putting back what the check changed[\s\S]*back to 3 replicas/)
})
