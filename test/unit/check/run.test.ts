// runCheck against a fake cluster whose state moves on each read, and a fake clock: every step, and
// every way the run can stop short, without a network or a real wait.
import t from 'tap'
import type { V1Deployment, V1Job, V1Pod, V1Service } from '@kubernetes/client-node'
import { runCheck, type CheckCluster, type CheckOptions } from '../../../src/check/run.js'
import { toJsonReport } from '../../../src/load/report.js'

const REPORT = toJsonReport({
  url: 'http://web.shop.svc:80/', rate: 10, durationMs: 300, elapsedMs: 310, aborted: false, count: 3,
  latencyMs: Float32Array.of(1, 2, 3), outcome: Uint16Array.of(0, 0, 0), outcomes: [{ label: '200', ok: true }], errorCodes: {}, bytesIn: 6
})

const OPTIONS: CheckOptions = { namespace: 'shop', deployment: 'web', service: 'web', path: '/', rate: 10, durationSeconds: 60, image: 'lameduck:test', timeoutMs: 30_000 }

interface Script {
  /** Deployment reads in turn (the last one repeats). */
  deployments: Array<Partial<V1Deployment>>
  service?: V1Service
  /** Load Pod lists in turn (the last one repeats). */
  loadPods: V1Pod[][]
  /** App Pod lists in turn. */
  appPods: V1Pod[][]
  /** Job reads in turn. */
  jobs: V1Job[]
  log?: string
}

const ready = (generation: number): Partial<V1Deployment> => ({ status: { observedGeneration: generation, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } })
const base: V1Deployment = { metadata: { name: 'web', namespace: 'shop', generation: 1 }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } } }
const running: V1Pod = { metadata: { name: 'lameduck-check-abcde-x1' }, status: { phase: 'Running' } }
const complete: V1Job = { metadata: { name: 'lameduck-check-abcde' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } }
const active: V1Job = { metadata: { name: 'lameduck-check-abcde' }, status: {} }

function happy (): Script {
  return {
    deployments: [ready(1), { metadata: { generation: 2 }, status: { observedGeneration: 1 } }, { metadata: { generation: 2 }, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } }, ready(2)],
    loadPods: [[], [{ metadata: { name: 'lameduck-check-abcde-x1' }, status: { phase: 'Pending' } }], [running]],
    appPods: [[{ metadata: { name: 'web-old', deletionTimestamp: new Date() } }], []],
    jobs: [active, active, complete],
    log: `sent 3\n${JSON.stringify(REPORT)}\n`
  }
}

/** A fake cluster playing `script`, recording every call; and a clock that moves only when slept. */
function fake (script: Script): { cluster: CheckCluster, calls: string[], created: V1Job[], patches: object[], lines: string[], env: { log: (l: string) => void, now: () => number, sleep: (ms: number) => Promise<void> }, slept: number[] } {
  const calls: string[] = []
  const created: V1Job[] = []
  const patches: object[] = []
  const lines: string[] = []
  const slept: number[] = []
  let now = 1_000_000
  const next = <T>(list: T[]): T => list.length > 1 ? list.shift()! : list[0]!
  const deployment = (): V1Deployment => { const d = next(script.deployments); return { ...base, ...d, metadata: { ...base.metadata, ...d.metadata } } }
  const cluster: CheckCluster = {
    server: 'https://fake',
    readDeployment: async (ns, name) => { calls.push(`readDeployment ${ns}/${name}`); return deployment() },
    readService: async (ns, name) => { calls.push(`readService ${ns}/${name}`); return script.service ?? { metadata: { name, namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } },
    createJob: async (ns, job) => { calls.push(`createJob ${ns}`); created.push(job); return 'lameduck-check-abcde' },
    readJob: async (ns, name) => { calls.push(`readJob ${ns}/${name}`); return next(script.jobs) },
    listPods: async (ns, selector) => { calls.push(`listPods ${ns} ${selector}`); return selector.startsWith('job-name=') ? next(script.loadPods) : next(script.appPods) },
    patchDeployment: async (ns, name, patch) => { calls.push(`patchDeployment ${ns}/${name}`); patches.push(patch); return { metadata: { generation: 2 } } },
    readLog: async (ns, pod, container) => { calls.push(`readLog ${ns}/${pod} ${container}`); return script.log ?? '' }
  }
  const env = { log: (line: string) => { lines.push(line) }, now: () => now, sleep: async (ms: number) => { slept.push(ms); now += ms } }
  return { cluster, calls, created, patches, lines, env, slept }
}

t.test('the whole run: Job, then the restart once the load runs, rollout, old Pods gone, Job done, report', async t => {
  const f = fake(happy())
  const result = await runCheck(OPTIONS, f.cluster, f.env)
  t.same(result, { jobName: 'lameduck-check-abcde', report: REPORT })
  t.equal(f.created[0]!.spec!.template.spec!.containers[0]!.args![2], 'http://web.shop.svc:80/')
  t.equal(f.created[0]!.spec!.template.spec!.containers[0]!.image, 'lameduck:test')
  t.match(f.patches[0], { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': /^\d{4}-.*Z$/ } } } } })
  const order = f.calls.map(c => c.split(' ')[0]).filter((c, i, all) => c !== all[i - 1])
  t.same(order, ['readDeployment', 'readService', 'createJob', 'listPods', 'patchDeployment', 'readDeployment', 'listPods', 'readJob', 'listPods', 'readLog'], 'the restart comes only after the load Pod runs')
  t.ok(f.calls.includes('listPods shop app=web'), 'old Pods are found by the Deployment\'s selector')
  t.ok(f.calls.includes('readLog shop/lameduck-check-abcde-x1 load'))
  t.same(f.lines, [
    'started load Job shop/lameduck-check-abcde: 10 requests/s for 60s to http://web.shop.svc:80/',
    'the load Job has no Pod yet', 'load Pod lameduck-check-abcde-x1 is Pending (not scheduled)', 'load Pod lameduck-check-abcde-x1 is Running',
    'restarted deployment shop/web (generation 2)',
    'Waiting for deployment spec update to be observed...', 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...', 'deployment "web" successfully rolled out',
    '1 old Pod is still terminating (web-old)', 'no old Pod is left',
    'the load Job lameduck-check-abcde is running', 'the load Job lameduck-check-abcde finished'
  ], 'each state is logged once, when it changes')
  t.ok(f.slept.every(ms => ms === 1000), 'polls once a second by default')
})

t.test('a timeout names what it was waiting for, and the last state seen', async t => {
  const stuck = { ...happy(), deployments: [ready(1), { metadata: { generation: 2 }, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } }] }
  const f = fake(stuck)
  await t.rejects(runCheck({ ...OPTIONS, timeoutMs: 5500, pollMs: 2000 }, f.cluster, f.env),
    { message: 'timed out after 5.5s waiting for deployment web to roll out: Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...' })
  t.ok(f.slept.every(ms => ms <= 2000) && f.slept.includes(1500), 'the last sleep ends at the deadline')
  const pending = fake({ ...happy(), loadPods: [[{ metadata: { name: 'p' }, status: { phase: 'Pending', containerStatuses: [{ name: 'load', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] } }]] })
  await t.rejects(runCheck({ ...OPTIONS, timeoutMs: 3000 }, pending.cluster, pending.env),
    { message: 'timed out after 3s waiting for the load Job lameduck-check-abcde to start: load Pod p is Pending (ErrImagePull)' })
  t.notOk(pending.calls.some(c => c.startsWith('patchDeployment')), 'no restart without a running load')
})

t.test('a load that ended before the old Pods were gone saw only part of the rollout: no verdict', async t => {
  const f = fake({ ...happy(), jobs: [complete] })
  await t.rejects(runCheck(OPTIONS, f.cluster, f.env), { message: 'the load Job lameduck-check-abcde ended before the old Pods were gone, so it did not see the whole rollout: use a longer --duration' })
  t.notOk(f.calls.some(c => c.startsWith('readLog')))
})

t.test('refusals before anything starts: a paused Deployment, a Service elsewhere, an unknown port', async t => {
  const paused = fake({ ...happy(), deployments: [{ spec: { ...base.spec!, paused: true } }] })
  await t.rejects(runCheck(OPTIONS, paused.cluster, paused.env), { message: /is paused/ })
  const elsewhere = fake({ ...happy(), service: { metadata: { name: 'web' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } } })
  await t.rejects(runCheck(OPTIONS, elsewhere.cluster, elsewhere.env), { message: /does not send traffic to the Pods of deployment web/ })
  const port = fake(happy())
  await t.rejects(runCheck({ ...OPTIONS, port: '8080' }, port.cluster, port.env), { message: 'Service shop/web has no port 8080; it has 80' })
  for (const f of [paused, elsewhere, port]) t.notOk(f.calls.some(c => c.startsWith('createJob')), 'no Job is created')
})

t.test('a failed Job, a Job without a Pod, and a log without a report are errors', async t => {
  const failed = fake({ ...happy(), jobs: [active, { metadata: { name: 'lameduck-check-abcde' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } }] })
  await t.rejects(runCheck(OPTIONS, failed.cluster, failed.env), { message: 'the load Job lameduck-check-abcde failed: BackoffLimitExceeded' })
  const podless = fake({ ...happy(), loadPods: [[running], []] })
  await t.rejects(runCheck(OPTIONS, podless.cluster, podless.env), { message: 'the load Job lameduck-check-abcde has no Pod to read the report from' })
  const nameless = fake({ ...happy(), loadPods: [[{ status: { phase: 'Running' } }]], log: 'killed\n' })
  await t.rejects(runCheck(OPTIONS, nameless.cluster, nameless.env), { message: 'the load Pod\'s log has no JSON report (it ends: killed)' })
  t.ok(nameless.calls.includes('readLog shop/ load'))
})

t.test('a restart whose answer has no generation still goes on', async t => {
  const f = fake(happy())
  f.cluster.patchDeployment = async () => ({})
  await runCheck(OPTIONS, f.cluster, f.env)
  t.ok(f.lines.includes('restarted deployment shop/web (generation ?)'))
})
