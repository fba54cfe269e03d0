// `lameduck check --scenario scale-in|evict` against a user's Deployment on a real node: the scale-in
// scales it to 1 and back to what it was (also when interrupted), the evictions go through the
// Eviction API one Pod at a time with the Deployment's PodDisruptionBudget honoured, and each run
// ends with the load report and a verdict. Without lameduck in this cluster, a verdict may be PASS
// or FAIL (agnhost netexec exits at once on SIGTERM, and kube-proxy usually forgets a deleted Pod
// first): this file checks what the scenarios do to the Deployment, demo tests what they do to requests.
// And a rollout whose load is stopped on purpose (SIGSTOP) while the old Pods leave gets no verdict.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
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

/** The host PID of the running load Job's container: the process in the cgroup named after its container ID. */
async function loadPid (): Promise<number> {
  interface Status { containerID?: string, state?: { running?: object } }
  interface PodList { items: Array<{ status?: { containerStatuses?: Status[] } }> }
  const id = await until('the load Pod to run', async () => {
    const selector = 'app.kubernetes.io/name=lameduck-check'
    const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', NS, '-l', selector, '-o', 'json'])
    const statuses = (JSON.parse(stdout) as PodList).items.flatMap(p => p.status?.containerStatuses ?? [])
    return statuses.find(c => c.state?.running)?.containerID?.replace(/^\w+:\/\//, '')
  }, 120_000)
  for (const entry of (await readdir('/proc')).filter(name => /^\d+$/.test(name))) {
    const cgroup = await readFile(`/proc/${entry}/cgroup`, 'utf8').catch(() => '')
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cgroup.includes(id) && command.split('\0').includes('load')) return Number(entry)
  }
  throw new Error(`no process of container ${id} runs lameduck load`)
}

t.test('a load stopped for 5 s while the old Pods leave: no verdict, with the lag, exit 3, not FAIL', async t => {
  let out = ''
  let err = ''
  const dir = t.testdir({})
  const io = { stdout: (s: string) => { out += s }, stderr: (s: string) => { err += s }, env: {} }
  const running = runCli(['check', ...FLAGS, '--json', join(dir, 'check.json')], io)
  const pid = await loadPid()
  const deleting = async (): Promise<true | undefined> => {
    const jsonpath = 'jsonpath={.items[*].metadata.deletionTimestamp}'
    const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web', '-o', jsonpath])
    return /restarted deployment/.test(err) && stdout.trim() !== '' ? true : undefined
  }
  await until('the first old Pod\'s deletion', deleting, 120_000)
  // As a starved node would: the load process gets no CPU at all for 5 s, then goes on.
  process.kill(pid, 'SIGSTOP')
  t.teardown(() => { try { process.kill(pid, 'SIGCONT') } catch { /* gone */ } })
  await sleep(5000)
  process.kill(pid, 'SIGCONT')
  const code = await running
  t.comment(err)
  t.comment(out)
  t.equal(code, 3, 'no verdict')
  const lag = /^NO VERDICT: the load generator fell behind its schedule by up to (\d+\.\d+)s while the Pods were stopped/m.exec(out)
  t.ok(lag !== null && Number(lag[1]) >= 4.5, `the lag is the stop: ${lag?.[1] ?? 'none'} s`)
  t.match(out, /Run it again with more CPU for the load Pod \(--load-cpu, now 100m\) or a rate below 20 requests\/s/)
  t.notMatch(out, /^(PASS|FAIL):/m, 'neither PASS nor FAIL')
  t.match(out, /^Lag\s+\[max, sent late, longest stall\]\s+[45]\.\d+s, /m, 'the load\'s own report says it too')
  interface Written { verdict: object, report: { maxLagMs: number }, warningEvents: object }
  const json = JSON.parse(await readFile(join(dir, 'check.json'), 'utf8')) as Written
  t.match(json.verdict, { passed: false, judged: false })
  t.ok(json.report.maxLagMs >= 4500, `maxLagMs ${json.report.maxLagMs}`)
  t.match(json.warningEvents, { FailedPreStopHook: 0 }, 'the kubelet\'s Warning events about the old Pods, read')
  await kubectl(cluster, ['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=120s'])
})

t.test('Ctrl-C during a scale-in: the replicas are put back before the exit', async t => {
  const signals = Object.assign(new EventEmitter(), {
    exits: [] as number[],
    exit (code: number) {
      signals.exits.push(code)
    }
  }) satisfies SignalTarget
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
