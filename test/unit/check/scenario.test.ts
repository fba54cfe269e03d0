import t from 'tap'
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { EventEmitter } from 'node:events'
import { ConfigError } from '../../../src/common/flags.js'
import { parseCheckScenario, scenarioHook, withRestore, type EvictionOutcome, type ScenarioCluster, type SignalTarget } from '../../../src/check/scenario.js'
import type { WaitState } from '../../../src/check/rollout.js'
import { changes, doneScript, fakeCheckCluster, type FakeCheckCluster } from '../../helpers/check-cluster.js'

/** A done cluster with Pods web-a, web-old (leaving) and web-b; evictions answer from `evictions` in turn. */
const PODS: V1Pod[] = [
  { metadata: { name: 'web-a' } },
  { metadata: { name: 'web-old', deletionTimestamp: new Date() } },
  { metadata: { name: 'web-b' } }
]
function fake (evictions: EvictionOutcome[] = [], pods = PODS): FakeCheckCluster {
  return fakeCheckCluster({ ...doneScript(''), appPods: [pods], evictions })
}

/** runCheck's wait, without a clock: reads until done, at most 10 times. */
const wait = async (_what: string, read: () => Promise<WaitState>): Promise<void> => {
  for (let i = 0; i < 10; i++) if ((await read()).done) return
  throw new Error('never done')
}
const target = { namespace: 'shop', deployment: 'web' }
const deployment = (replicas: number): V1Deployment => ({ metadata: { name: 'web' }, spec: { replicas, selector: {}, template: {} } })

t.test('--scenario: restart, scale-in or evict', async t => {
  t.equal(parseCheckScenario('scale-in'), 'scale-in')
  t.throws(() => parseCheckScenario('drain'), new ConfigError('--scenario must be one of restart, scale-in, evict, not "drain"'))
})

t.test('restart: nothing of its own (run.ts restarts), nothing to restore', async t => {
  const f = fake()
  const hook = scenarioHook('restart', target, f.cluster, { log: () => {} })
  t.equal(hook.disrupt, undefined)
  await hook.restore()
  t.same(changes(f), [])
})

t.test('scale-in: to 1, waits for the Deployment, then back to what it was, once', async t => {
  const f = fake()
  const lines: string[] = []
  const hook = scenarioHook('scale-in', target, f.cluster, { log: line => { lines.push(line) } })
  await hook.restore()
  t.same(changes(f), [], 'nothing to restore before it scaled')
  await hook.disrupt!({ deployment: deployment(4), podSelector: 'app=web', wait })
  await hook.restore()
  await hook.restore()
  t.same(changes(f), [
    'patchDeployment shop/web {"spec":{"replicas":1}}',
    'patchDeployment shop/web {"spec":{"replicas":4}}'
  ])
  t.match(lines.join('\n'), /from 4 replicas to 1[\s\S]*back to 4 replicas/)
})

t.test('scale-in of one replica stops nothing: refused before changing anything', async t => {
  const f = fake()
  const hook = scenarioHook('scale-in', target, f.cluster, { log: () => {} })
  await t.rejects(hook.disrupt!({ deployment: deployment(1), podSelector: '', wait }), /has 1 replica: a scale-in to 1 stops no Pod/)
  await t.rejects(hook.disrupt!({ deployment: { metadata: {} }, podSelector: '', wait }), /has 1 replica/, 'no replicas field: 1')
  await hook.restore()
  t.same(changes(f), [])
})

t.test('evict: each Pod not already leaving, in turn, trying again while the budget says 429', async t => {
  const f = fake(['evicted', 'blocked', 'blocked', 'gone'])
  const hook = scenarioHook('evict', target, f.cluster, { log: () => {} })
  await hook.disrupt!({ deployment: deployment(2), podSelector: 'app=web', wait })
  t.same(changes(f), ['evictPod shop/web-a', 'evictPod shop/web-b', 'evictPod shop/web-b', 'evictPod shop/web-b'])
  const messages: string[] = []
  await hook.disrupt!({ deployment: deployment(2), podSelector: 'app=web', wait: async (what, read) => { messages.push(what, (await read()).message) } })
  t.same(messages.slice(0, 2), ['a PodDisruptionBudget to allow evicting web-a', 'evicted web-a (policy/v1 Eviction)'])
  t.equal(messages.at(-2), 'deployment web to replace the evicted Pods')
  const blocked = fake(['blocked'])
  const once = async (_what: string, read: () => Promise<WaitState>): Promise<void> => {
    messages.push((await read()).message)
  }
  const blockedHook = scenarioHook('evict', target, blocked.cluster, { log: () => {} })
  await blockedHook.disrupt!({ deployment: deployment(2), podSelector: '', wait: once })
  t.match(messages.at(-3), /eviction of web-a refused for now by a PodDisruptionBudget \(429\); trying again/)
  t.match(messages.at(-2), /web-b was already gone|evicted web-b/)
  await hook.restore()
  const nameless = fake([], [{}])
  const hookless = scenarioHook('evict', target, nameless.cluster, { log: () => {} })
  await hookless.disrupt!({ deployment: deployment(2), podSelector: '', wait })
  t.same(changes(nameless), ['evictPod shop/'], 'a Pod without a name is tried as it is (the API server answers)')
  const cannot: ScenarioCluster = { ...fake().cluster, evictPod: undefined }
  await t.rejects(scenarioHook('evict', target, cannot, { log: () => {} }).disrupt!({ deployment: deployment(2), podSelector: '', wait }), /cannot evict Pods/)
})

/** A process stand-in: signals are events, exit is recorded. */
function proc (): SignalTarget & EventEmitter & { exits: number[] } {
  const emitter = new EventEmitter() as EventEmitter & { exits: number[], exit: (code: number) => void }
  emitter.exits = []
  emitter.exit = code => { emitter.exits.push(code) }
  return emitter
}

t.test('withRestore: restores after the work, after a failure, and on a signal (then exits 130)', async t => {
  let restored = 0
  const restore = async (): Promise<void> => { restored++ }
  const p = proc()
  t.equal(await withRestore(restore, async () => 7, () => {}, p), 7)
  t.equal(restored, 1)
  await t.rejects(withRestore(restore, async () => { throw new Error('boom') }, () => {}, p), /boom/)
  t.equal(restored, 2)
  t.equal(p.listenerCount('SIGINT') + p.listenerCount('SIGTERM'), 0, 'no handler left behind')
  const lines: string[] = []
  let finish!: () => void
  const work = withRestore(
    restore,
    async () => {
      await new Promise<void>(resolve => {
        finish = resolve
      })
    },
    line => {
      lines.push(line)
    },
    p
  )
  p.emit('SIGINT')
  await new Promise(resolve => setImmediate(resolve))
  t.same(p.exits, [130])
  t.equal(restored, 3)
  t.same(lines, ['interrupted: putting back what the check changed'])
  finish()
  await work
  const failing = proc()
  const stuck = withRestore(async () => { throw new Error('API server gone') }, async () => await new Promise<void>(resolve => { setTimeout(resolve, 20) }), line => { lines.push(line) }, failing)
  failing.emit('SIGTERM')
  await new Promise(resolve => setImmediate(resolve))
  t.same(failing.exits, [130])
  t.match(lines.at(-1), 'could not put it back: API server gone')
  await t.rejects(stuck, /API server gone/)
  const odd = proc()
  const oddWork = withRestore(async () => { throw 'odd' as unknown as Error }, async () => await new Promise<void>(resolve => { setTimeout(resolve, 20) }), line => { lines.push(line) }, odd)
  odd.emit('SIGINT')
  await new Promise(resolve => setImmediate(resolve))
  t.equal(lines.at(-1), 'could not put it back: odd')
  await t.rejects(oddWork)
})

t.test('withRestore defaults to this process', async t => {
  t.equal(await withRestore(async () => {}, async () => 'ok', () => {}), 'ok')
})
