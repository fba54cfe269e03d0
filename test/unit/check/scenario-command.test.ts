// `lameduck check --scenario`: the flag, and a whole run through runCheckCommand with a fake cluster in
// which every wait is already over: the scale-in patches the replicas to 1 and back, the eviction goes
// through the Eviction API; neither restarts the Deployment.
import t from 'tap'
import { EventEmitter } from 'node:events'
import type { V1Deployment, V1Job } from '@kubernetes/client-node'
import { readCheckOptions, runCheckCommand } from '../../../src/check/command.js'
import type { CheckCluster } from '../../../src/check/run.js'
import type { EvictionOutcome, SignalTarget } from '../../../src/check/scenario.js'
import { toJsonReport } from '../../../src/load/report.js'

const REQUIRED = ['--namespace', 'shop', '--deployment', 'web', '--service', 'web']

t.test('--scenario is read only when given, and checked', async t => {
  t.equal(readCheckOptions([...REQUIRED, '--scenario', 'evict']).scenario, 'evict')
  t.notOk('scenario' in readCheckOptions(REQUIRED))
  t.throws(() => readCheckOptions([...REQUIRED, '--scenario', 'drain']), /--scenario must be one of restart, scale-in, evict, not "drain"/)
})

const report = JSON.stringify(toJsonReport({ url: 'http://web.shop.svc:80/', rate: 10, durationMs: 100, elapsedMs: 100, aborted: false, count: 1, latencyMs: Float32Array.from([1]), outcome: Uint16Array.from([0]), outcomes: [{ label: '200', ok: true }], errorCodes: {}, bytesIn: 0 }))

function cluster (calls: string[], withEviction = true): CheckCluster & { evictPod?: (ns: string, name: string) => Promise<EvictionOutcome> } {
  const ready: V1Deployment = { metadata: { name: 'web', namespace: 'shop', generation: 1 }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } }, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } }
  let jobReads = 0
  return {
    server: 'https://fake:6443',
    readDeployment: async () => ready,
    readService: async () => ({ spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }),
    createJob: async () => 'lameduck-check-abcde',
    readJob: async (): Promise<V1Job> => ({ metadata: { name: 'lameduck-check-abcde' }, status: jobReads++ === 0 ? {} : { conditions: [{ type: 'Complete', status: 'True' }] } }),
    listPods: async (_ns, selector) => selector.startsWith('job-name=') ? [{ metadata: { name: 'lameduck-check-abcde-p' }, status: { phase: 'Running' } }] : [{ metadata: { name: 'web-1' } }],
    patchDeployment: async (_ns, _name, patch) => { calls.push(`patch ${JSON.stringify(patch)}`); return ready },
    readLog: async () => `${report}\n`,
    watch: async () => () => undefined,
    ...(withEviction ? { evictPod: async (_ns: string, name: string) => { calls.push(`evict ${name}`); return 'evicted' as const } } : {})
  }
}

const clock = { now: () => 0, sleep: async () => {} }
const io = (): { stdout: (s: string) => void, stderr: (s: string) => void, env: Record<string, string>, err: string } => {
  const out = { err: '', env: {}, stdout: () => {}, stderr: (s: string) => { out.err += s } }
  return out
}
const quiet = (): SignalTarget => Object.assign(new EventEmitter(), { exit: () => {} })

t.test('scale-in: to 1 and back to 3, no restart', async t => {
  const calls: string[] = []
  const out = io()
  t.equal(await runCheckCommand([...REQUIRED, '--scenario', 'scale-in'], out, () => cluster(calls), clock, quiet()), 0)
  t.same(calls, ['patch {"spec":{"replicas":1}}', 'patch {"spec":{"replicas":3}}'])
  t.match(out.err, /scaled deployment shop\/web from 3 replicas to 1[\s\S]*scaled deployment shop\/web back to 3 replicas/)
})

t.test('evict: each Pod through the Eviction API, no patch', async t => {
  const calls: string[] = []
  t.equal(await runCheckCommand([...REQUIRED, '--scenario', 'evict'], io(), () => cluster(calls), clock, quiet()), 0)
  t.same(calls, ['evict web-1'])
  await t.rejects(runCheckCommand([...REQUIRED, '--scenario', 'evict'], io(), () => cluster([], false), clock, quiet()), /cannot evict Pods/)
})
