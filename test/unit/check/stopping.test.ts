// How a check stops the old Pods, each way on its own (run.test.ts runs them inside a whole check).
import t from 'tap'
import { chooseStopping, type StoppingContext } from '../../../src/check/stopping.js'
import type { DisruptContext } from '../../../src/check/scenario.js'
import {
  BASE_DEPLOYMENT, changes, doneScript, fakeCheckCluster, type FakeCheckCluster, type Script
} from '../../helpers/check-cluster.js'

/** The context runCheck builds, over a fake cluster playing `script`; its wait reads until done. */
function context (script: Partial<Script> = {}): { f: FakeCheckCluster, ctx: StoppingContext } {
  const f = fakeCheckCluster({ ...doneScript(''), ...script })
  const ctx: StoppingContext = {
    namespace: 'shop',
    name: 'web',
    deployment: { ...BASE_DEPLOYMENT, ...script.deployments?.[0] },
    podSelector: 'app=web',
    cluster: f.cluster,
    wait: async (what, read) => { f.lines.push(`wait ${what}`); while (!(await read()).done); },
    log: f.env.log,
    now: () => Date.parse('2026-11-30T06:00:00Z')
  }
  return { f, ctx }
}

t.test('a restart: the patch kubectl rollout restart sends, then the rollout', async t => {
  const { f, ctx } = context()
  const stopping = chooseStopping(ctx, {})
  await stopping.prepare()
  t.same(changes(f), [], 'nothing before the load')
  await stopping.stop()
  await stopping.undo()
  const restartedAt = { 'kubectl.kubernetes.io/restartedAt': '2026-11-30T06:00:00Z' }
  const patch = { spec: { template: { metadata: { annotations: restartedAt } } } }
  t.same(changes(f), [`patchDeployment shop/web ${JSON.stringify(patch)}`])
  t.same(f.lines, ['restarted deployment shop/web (generation 2)', 'wait deployment web to roll out'])
})

t.test('a scenario: its own step instead of a restart, given the Deployment, selector and wait', async t => {
  const { f, ctx } = context()
  const seen: DisruptContext[] = []
  const stopping = chooseStopping(ctx, { disrupt: async c => { seen.push(c) } })
  await stopping.prepare()
  await stopping.stop()
  await stopping.undo()
  t.equal(seen.length, 1)
  t.equal(seen[0]!.podSelector, 'app=web')
  t.equal(seen[0]!.deployment, ctx.deployment)
  t.same(changes(f), [], 'the scenario changes what it changes; no restart')
})

const injected = { metadata: { name: 'web-new', annotations: { 'lameduck.dev/injected': 'sleep=30s grace=40s' } } }
const override = (value: string | null): string => {
  const annotations = { 'lameduck.dev/prestop-sleep': value }
  return `patchDeployment shop/web ${JSON.stringify({ spec: { template: { metadata: { annotations } } } })}`
}

t.test('measuring: the override and its rollout before the load, then its removal is the stop', async t => {
  const { f, ctx } = context({ appPods: [[injected]] })
  const stopping = chooseStopping(ctx, { measureSleepSeconds: 30 })
  await stopping.prepare()
  t.same(f.lines.slice(1), ['wait deployment web to roll out', 'wait the old Pods of deployment web to exit'])
  t.same(changes(f), [override('30s')])
  await stopping.stop()
  await stopping.undo()
  t.same(changes(f), [override('30s'), override(null)], 'removed once: nothing left to undo')
  t.equal(f.lines.at(-1), 'wait deployment web to roll out', 'the removal\'s rollout waited for')
})

t.test('measuring: a failure after the override puts it back', async t => {
  const { f, ctx } = context({ appPods: [[injected]] })
  const stopping = chooseStopping(ctx, { measureSleepSeconds: 30 })
  await stopping.prepare()
  await stopping.undo()
  t.same(changes(f), [override('30s'), override(null)])
  t.equal(f.lines.at(-1), 'put back the template\'s lameduck.dev/prestop-sleep (none) of deployment shop/web')
})
