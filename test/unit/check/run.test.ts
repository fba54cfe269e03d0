// runCheck against a fake cluster whose state moves on each read, and a fake clock: every step, and
// every way the run can stop short, without a network or a real wait.
import t from 'tap'
import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node'
import { runCheck, type CheckOptions } from '../../../src/check/run.js'
import { toJsonReport } from '../../../src/load/report.js'
// The shared fake cluster, under the names this file has always used.
import {
  BASE_DEPLOYMENT as base, activeJob as active, completeJob as complete, fakeCheckCluster as fake, ready,
  runningLoadPod as running, type Script
} from '../../helpers/check-cluster.js'

const REPORT = toJsonReport({
  url: 'http://web.shop.svc:80/', rate: 10, durationMs: 300, elapsedMs: 310, aborted: false, count: 3,
  latencyMs: Float32Array.of(1, 2, 3), outcome: Uint16Array.of(0, 0, 0), outcomes: [{ label: '200', ok: true }], errorCodes: {}, bytesIn: 6
})

const OPTIONS: CheckOptions = { namespace: 'shop', deployment: 'web', service: 'web', path: '/', rate: 10, durationSeconds: 60, image: 'lameduck:test', timeoutMs: 30_000, identify: 'json:pod' }

const oldPod: V1Pod = { metadata: { name: 'web-old', deletionTimestamp: new Date() } }
const slice = (ready: boolean): V1EndpointSlice => ({ addressType: 'IPv4', metadata: { name: 'web-x' }, endpoints: [{ addresses: ['10.88.0.9'], conditions: { ready }, targetRef: { name: 'web-old' } }] })

function happy (): Script {
  return {
    deployments: [
      ready(1),
      { metadata: { generation: 2 }, status: { observedGeneration: 1 } },
      { metadata: { generation: 2 }, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } },
      ready(2)
    ],
    loadPods: [[], [{ metadata: { name: 'lameduck-check-abcde-x1' }, status: { phase: 'Pending' } }], [running]],
    appPods: [[oldPod], []],
    jobs: [active, active, complete],
    log: `sent 3\n${JSON.stringify(REPORT)}\n`,
    events: [
      ['endpointslices', 'ADDED', slice(true)],
      ['pods', 'MODIFIED', oldPod],
      ['endpointslices', 'MODIFIED', slice(false)],
      ['endpointslices', 'ADDED', { metadata: { name: 'other' } }],
      ['endpointslices', 'DELETED', { metadata: { name: 'other' } }]
    ]
  }
}

t.test('the whole run: Job, then the restart once the load runs, rollout, old Pods gone, Job done, report', async t => {
  const f = fake(happy())
  const result = await runCheck(OPTIONS, f.cluster, f.env)
  t.match(result, { jobName: 'lameduck-check-abcde', url: 'http://web.shop.svc:80/', report: REPORT, pods: [{ pod: 'web-old', deletedAt: 1_002_000, endpointNotReadyAt: 1_002_000, deletionTimestamp: /Z$/ }] })
  t.equal(result.pods.length, 1)
  t.equal(f.created[0]!.spec!.template.spec!.containers[0]!.args![2], 'http://web.shop.svc:80/')
  t.equal(f.created[0]!.spec!.template.spec!.containers[0]!.image, 'lameduck:test')
  t.match(f.patches[0], { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': /^\d{4}-.*Z$/ } } } } })
  const order = f.calls.map(c => c.split(' ')[0]).filter(c => c !== 'watch').filter((c, i, all) => c !== all[i - 1])
  t.same(order.slice(0, 5), ['readDeployment', 'readService', 'createJob', 'listPods', 'patchDeployment'], 'the restart comes only after the load Pod runs')
  t.same(order.slice(-4), ['stop', 'readJob', 'listPods', 'readLog'], 'the watches stop once the old Pods are gone')
  t.ok(f.calls.includes('watch /apis/discovery.k8s.io/v1/namespaces/shop/endpointslices kubernetes.io/service-name=web'), 'the Service\'s EndpointSlices are watched while the old Pods leave')
  t.ok(f.calls.includes('watch /api/v1/namespaces/shop/pods app=web'), 'and the Deployment\'s Pods')
  t.ok(f.calls.indexOf('watch /api/v1/namespaces/shop/pods app=web') < f.calls.indexOf('patchDeployment shop/web'), 'from before the restart')
  t.ok(f.calls.includes('stop /api/v1/namespaces/shop/pods') && f.calls.includes('stop /apis/discovery.k8s.io/v1/namespaces/shop/endpointslices'), 'until the end')
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
  const stuck = {
    ...happy(),
    deployments: [
      ready(1),
      { metadata: { generation: 2 }, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } }
    ]
  }
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

/** A Pod the webhook gave the measuring pause. */
const paused = (seconds: number): V1Pod => ({ metadata: { name: 'web-new', annotations: { 'lameduck.dev/injected': `sleep=${seconds}s grace=40s handler=sleep containers=web` } } })
const leaving: V1Pod = { metadata: { name: 'web-new', deletionTimestamp: new Date() }, spec: { containers: [{ name: 'web', lifecycle: { preStop: { sleep: { seconds: 30 } } } }] } }
const measuring = (): Script => ({ ...happy(), deployments: [ready(1), ready(2)], appPods: [[], [paused(30)], [leaving], []], events: [['pods', 'MODIFIED', leaving]] })

t.test('--measure: the override, a rollout, the check that the Pods got it, then its removal is the rollout watched', async t => {
  const f = fake(measuring())
  const result = await runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, f.cluster, f.env)
  t.same(f.patches, [
    { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': '30s' } } } } },
    { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': null } } } } }
  ], 'set, then removed: no restart of its own')
  t.ok(f.calls.indexOf('createJob shop') > f.calls.indexOf('listPods shop app=web'), 'the load starts once the Pods have the pause')
  t.match(f.lines[0], /^measuring: the Pods of deployment web get a 30s pause, as a temporary override on their template \(annotation lameduck\.dev\/prestop-sleep=30s\)/)
  t.ok(f.lines.includes('put back the template\'s lameduck.dev/prestop-sleep (none): deployment shop/web rolls out (generation 2)'))
  t.match(result.pods, [{ pod: 'web-new', sleepSeconds: 30 }])
})

t.test('--measure puts back the value the template had, or restarts when it already had the measuring one', async t => {
  const had = (value: string): Script => ({ ...measuring(), deployments: [{ spec: { ...base.spec!, template: { metadata: { labels: { app: 'web' }, annotations: { 'lameduck.dev/prestop-sleep': value } } } }, status: ready(1).status }, ready(2)] })
  const f = fake(had('5s'))
  await runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, f.cluster, f.env)
  t.same(f.patches[1], { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': '5s' } } } } })
  t.match(f.lines[0], /, was 5s\)/)
  const same = fake(had('30s'))
  await runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, same.cluster, same.env)
  t.equal(same.patches.length, 2)
  t.match(same.patches[1], { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': /Z$/ } } } } }, 'nothing to put back: a restart is the rollout')
})

t.test('--measure puts the template back when it fails or is interrupted', async t => {
  const unmutated = fake({ ...measuring(), appPods: [[], [{ metadata: { name: 'web-new' } }]] })
  await t.rejects(runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, unmutated.cluster, unmutated.env), { message: /^the Pods did not get the measuring pause sleep=30s from lameduck \(web-new: not injected\)/ })
  t.same(unmutated.patches.at(-1), { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': null } } } } })
  t.equal(unmutated.lines.at(-1), 'put back the template\'s lameduck.dev/prestop-sleep (none) of deployment shop/web')
  t.notOk(unmutated.calls.includes('createJob shop'), 'no load')

  const stuck = fake({
    ...measuring(),
    deployments: [ready(1), { metadata: { generation: 2 }, status: { observedGeneration: 1 } }]
  })
  let reads = 0
  await t.rejects(runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, stuck.cluster, { ...stuck.env, interrupted: () => ++reads > 2 }), { message: 'interrupted while waiting for deployment web to roll out' })
  t.equal(stuck.patches.length, 2, 'put back')
})

t.test('--url: the load runs from here, is stopped at the end, and its report is the one returned', async t => {
  const f = fake({ ...happy(), appPods: [[oldPod], []] })
  const asked: Array<Parameters<NonNullable<Parameters<typeof runCheck>[2]['runLocalLoad']>>[0]> = []
  const runLocalLoad: NonNullable<Parameters<typeof runCheck>[2]['runLocalLoad']> = async load => {
    asked.push(load)
    await new Promise(resolve => setTimeout(resolve, 10))
    return REPORT
  }
  const result = await runCheck({ ...OPTIONS, url: 'http://127.0.0.1:1/' }, f.cluster, { ...f.env, runLocalLoad })
  t.equal(result.url, 'http://127.0.0.1:1/')
  t.equal(result.jobName, undefined)
  t.same(result.report, REPORT)
  t.match(asked[0], { url: 'http://127.0.0.1:1/', rate: 10, durationMs: 60_000, identify: 'json:pod' })
  t.ok(asked[0]!.signal.aborted, 'stopped once the run is over')
  t.notOk(f.calls.some(c => c.startsWith('createJob')), 'no Job')
  t.ok(f.slept.includes(2000), 'a warm-up before the restart')

  const early = fake({ ...happy(), appPods: [[oldPod], []] })
  await t.rejects(runCheck({ ...OPTIONS, url: 'http://127.0.0.1:1/' }, early.cluster, { ...early.env, runLocalLoad: async () => REPORT }), { message: /^the load from here ended before the old Pods were gone/ })
  const failing = fake({ ...happy(), appPods: [[oldPod], []] })
  await t.rejects(runCheck({ ...OPTIONS, url: 'http://127.0.0.1:1/' }, failing.cluster, { ...failing.env, runLocalLoad: async () => { await new Promise(resolve => setTimeout(resolve, 10)); throw new Error('boom') } }), { message: 'boom' })
})

t.test('a watch that ends early is said, and the run goes on', async t => {
  const f = fake({ ...happy(), watchEnds: new Error('too old resource version') })
  await runCheck(OPTIONS, f.cluster, f.env)
  t.ok(f.lines.includes('the watch of the Pods ended (too old resource version): later moments of the old Pods are missed'))
  const quiet = fake({ ...happy(), watchEnds: undefined })
  quiet.cluster.watch = async (_path, _selector, _onEvent, onEnd) => () => { onEnd(undefined) }
  await runCheck(OPTIONS, quiet.cluster, quiet.env)
  t.notOk(quiet.lines.some(line => line.includes('watch')), 'a watch stopped by the run itself is not an event')
  const closed = fake(happy())
  closed.cluster.watch = async (_path, _selector, _onEvent, onEnd) => { onEnd(undefined); return () => undefined }
  await runCheck(OPTIONS, closed.cluster, closed.env)
  t.ok(closed.lines.includes('the watch of the EndpointSlices ended: later moments of the old Pods are missed'))
})

t.test('a restore that fails says how to put the template back by hand', async t => {
  const f = fake({ ...measuring(), appPods: [[], [{ metadata: { name: 'web-new' } }]] })
  const patch = f.cluster.patchDeployment
  let patches = 0
  f.cluster.patchDeployment = async (ns, name, body) => { if (++patches === 2) throw new Error('patching deployment shop/web: cannot reach the API server'); return await patch(ns, name, body) }
  await t.rejects(runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, f.cluster, f.env), { message: 'patching deployment shop/web: cannot reach the API server' })
  t.equal(f.lines.at(-1), 'could not put back the template\'s lameduck.dev/prestop-sleep (patching deployment shop/web: cannot reach the API server); put it back with: kubectl -n shop patch deployment web --type merge -p \'{"spec":{"template":{"metadata":{"annotations":{"lameduck.dev/prestop-sleep":null}}}}}\'')
})

t.test('odd answers: a restore without a generation, slices without names, a failure after the restore', async t => {
  const f = fake({ ...measuring(), events: [['endpointslices', 'ADDED', {}], ['endpointslices', 'DELETED', {}], ['pods', 'MODIFIED', leaving]] })
  f.cluster.patchDeployment = async () => ({})
  await runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, f.cluster, f.env)
  t.ok(f.lines.includes('put back the template\'s lameduck.dev/prestop-sleep (none): deployment shop/web rolls out (generation ?)'))
  const late = fake({ ...measuring(), jobs: [complete] })
  await t.rejects(runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, late.cluster, late.env), { message: /ended before the old Pods were gone/ })
  t.equal(late.patches.length, 2, 'already put back: not twice')
})

t.test('on a failure while the old Pods leave, the watches stop and the load from here is stopped', async t => {
  const f = fake({
    ...happy(),
    deployments: [ready(1), { metadata: { generation: 2 }, status: { observedGeneration: 1 } }]
  })
  let signal: AbortSignal | undefined
  const runLocalLoad: NonNullable<Parameters<typeof runCheck>[2]['runLocalLoad']> = async load => { signal = load.signal; return await new Promise(() => undefined) }
  await t.rejects(runCheck({ ...OPTIONS, url: 'http://127.0.0.1:1/', timeoutMs: 3000 }, f.cluster, { ...f.env, runLocalLoad }), { message: /^timed out after 3s waiting for deployment web to roll out/ })
  t.ok(f.calls.includes('stop /api/v1/namespaces/shop/pods') && f.calls.includes('stop /apis/discovery.k8s.io/v1/namespaces/shop/endpointslices'))
  t.equal(signal?.aborted, true)
})

t.test('--measure: an override the API server refused changed nothing, so nothing is put back', async t => {
  const f = fake(measuring())
  f.cluster.patchDeployment = async () => { throw new Error('patching deployment shop/web: forbidden (403)') }
  await t.rejects(runCheck({ ...OPTIONS, measureSleepSeconds: 30 }, f.cluster, f.env), { message: 'patching deployment shop/web: forbidden (403)' })
  t.notOk(f.lines.some(line => line.includes('put back')))
})
