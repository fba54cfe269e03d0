import t from 'tap'
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { RESTARTED_AT, checkRestartable, checkServiceSelectsDeployment, jobState, loadStarted, oldPodsGone, restartPatch, rolloutState, selectorString } from '../../../src/check/rollout.js'

t.test('restartPatch stamps the template as kubectl rollout restart does, to the second', async t => {
  t.same(restartPatch(new Date('2026-11-24T10:20:30.456Z')), { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: '2026-11-24T10:20:30Z' } } } } })
})

t.test('a paused Deployment cannot be restarted', async t => {
  t.throws(() => { checkRestartable({ metadata: { name: 'web', namespace: 'shop' }, spec: { paused: true } as V1Deployment['spec'] }) }, { message: 'deployment shop/web is paused: resume it first (kubectl rollout resume)' })
  t.throws(() => { checkRestartable({ spec: { paused: true } as V1Deployment['spec'] }) }, { message: /deployment \/ is paused/ })
  t.doesNotThrow(() => { checkRestartable({ metadata: { name: 'web' } }) })
})

const deployment = (generation: number, status: NonNullable<V1Deployment['status']> | undefined, replicas?: number): V1Deployment =>
  ({ metadata: { name: 'web', generation }, spec: { replicas, selector: {}, template: {} }, status })

t.test('rolloutState words every stage as kubectl rollout status does', async t => {
  const cases: Array<[string, V1Deployment, boolean, string]> = [
    ['spec not yet observed', deployment(2, { observedGeneration: 1 }), false, 'Waiting for deployment spec update to be observed...'],
    ['no status at all', { metadata: { generation: 1 } }, false, 'Waiting for deployment spec update to be observed...'],
    ['nothing at all', {}, false, 'Waiting for deployment "" rollout to finish: 0 out of 1 new replicas have been updated...'],
    ['new replicas being made', deployment(2, { observedGeneration: 2, updatedReplicas: 1, replicas: 4 }, 3), false, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'],
    ['nothing updated, replicas defaulted to 1', deployment(2, { observedGeneration: 2 }), false, 'Waiting for deployment "web" rollout to finish: 0 out of 1 new replicas have been updated...'],
    ['old replicas still counted', deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 4 }, 3), false, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'],
    ['updated ones not yet available', deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }, 3), false, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'],
    ['none available', deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3 }, 3), false, 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...'],
    ['done', deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] }, 3), true, 'deployment "web" successfully rolled out'],
    ['scaled to zero', { metadata: { generation: 1 }, spec: { replicas: 0, selector: {}, template: {} }, status: { observedGeneration: 1 } }, true, 'deployment "" successfully rolled out']
  ]
  for (const [name, d, done, message] of cases) t.same(rolloutState(d), { done, message }, name)
  t.throws(() => rolloutState(deployment(2, { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] })),
    { message: 'deployment "web" exceeded its progress deadline' })
})

t.test('selectorString writes every kind of selector term', async t => {
  t.equal(selectorString({ matchLabels: { app: 'web', tier: 'front' } }), 'app=web,tier=front')
  t.equal(selectorString({
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['a', 'b'] }, { key: 'zone', operator: 'NotIn', values: ['c'] },
      { key: 'ready', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }, { key: 'none', operator: 'In' }
    ]
  }), 'env in (a,b),zone notin (c),ready,!legacy,none in ()')
  t.equal(selectorString(undefined), '')
  t.throws(() => selectorString({ matchExpressions: [{ key: 'x', operator: 'Near' }] }), { message: 'unknown label selector operator "Near"' })
})

t.test('the Service must send its traffic to the Deployment\'s Pods', async t => {
  const web: V1Deployment = { metadata: { name: 'web' }, spec: { selector: {}, template: { metadata: { labels: { app: 'web', tier: 'front' } } } } }
  t.doesNotThrow(() => { checkServiceSelectsDeployment({ spec: { selector: { app: 'web' } } }, web) })
  t.throws(() => { checkServiceSelectsDeployment({ metadata: { name: 'api' }, spec: { selector: { app: 'api', tier: 'front' } } }, web) },
    { message: 'Service api does not send traffic to the Pods of deployment web: its selector app=api does not match their labels' })
  t.throws(() => { checkServiceSelectsDeployment({ metadata: { name: 'ext' }, spec: {} }, web) }, { message: 'Service ext does not send traffic to the Pods of deployment web: it has no selector' })
  t.throws(() => { checkServiceSelectsDeployment({}, {}) }, { message: 'Service  does not send traffic to the Pods of deployment : it has no selector' })
  t.throws(() => { checkServiceSelectsDeployment({ spec: { selector: { app: 'web' } } }, {}) }, { message: /its selector app=web does not match/ })
})

t.test('jobState: running, complete, or failed with the reason', async t => {
  t.same(jobState({ metadata: { name: 'j' } }), { done: false, message: 'the load Job j is running' })
  t.same(jobState({ metadata: { name: 'j' }, status: { conditions: [{ type: 'Complete', status: 'False' }] } }), { done: false, message: 'the load Job j is running' })
  t.same(jobState({ metadata: { name: 'j' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } }), { done: true, message: 'the load Job j finished' })
  t.throws(() => jobState({ metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } }),
    { message: 'the load Job j failed: DeadlineExceeded: Job was active longer than specified deadline' })
  t.throws(() => jobState({ status: { conditions: [{ type: 'Failed', status: 'True' }] } }), { message: 'the load Job  failed: no reason given' })
})

const pod = (name: string, extra: Partial<V1Pod> = {}): V1Pod => ({ metadata: { name }, ...extra })

t.test('loadStarted: running or ended counts as started; Pending says why', async t => {
  t.same(loadStarted([]), { done: false, message: 'the load Job has no Pod yet' })
  t.same(loadStarted([pod('p', { status: { phase: 'Running' } })]), { done: true, message: 'load Pod p is Running' })
  t.same(loadStarted([pod('p', { status: { phase: 'Succeeded' } })]), { done: true, message: 'load Pod p is Succeeded' })
  t.same(loadStarted([{}]), { done: false, message: 'load Pod  is Pending (not scheduled)' })
  const waiting = (reason: string | undefined, message?: string): V1Pod['status'] => ({ phase: 'Pending', containerStatuses: [{ name: 'load', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] })
  t.same(loadStarted([pod('p', { status: waiting('ImagePullBackOff', 'Back-off pulling image "lameduck:0.1.0"') })]), { done: false, message: 'load Pod p is Pending (ImagePullBackOff: Back-off pulling image "lameduck:0.1.0")' })
  t.same(loadStarted([pod('p', { status: waiting('ContainerCreating') })]), { done: false, message: 'load Pod p is Pending (ContainerCreating)' })
  t.same(loadStarted([pod('p', { spec: { nodeName: 'n1', containers: [] }, status: waiting(undefined) })]), { done: false, message: 'load Pod p is Pending (starting)' })
  t.same(loadStarted([pod('p', { status: { phase: 'Pending', initContainerStatuses: [{ name: 'x', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] } })]), { done: false, message: 'load Pod p is Pending (PodInitializing)' })
  t.same(loadStarted([pod('p', { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available' }] } })]), { done: false, message: 'load Pod p is Pending (not scheduled: 0/3 nodes are available)' })
  t.same(loadStarted([pod('p', { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } })]), { done: false, message: 'load Pod p is Pending (not scheduled)' })
})

t.test('oldPodsGone waits for every terminating Pod, naming them', async t => {
  const leaving = (name: string): V1Pod => pod(name, { metadata: { name, deletionTimestamp: new Date() } })
  t.same(oldPodsGone([pod('new')]), { done: true, message: 'no old Pod is left' })
  t.same(oldPodsGone([pod('new'), leaving('old-1')]), { done: false, message: '1 old Pod is still terminating (old-1)' })
  t.same(oldPodsGone([leaving('old-1'), leaving('old-2'), { metadata: { deletionTimestamp: new Date() } }]), { done: false, message: '3 old Pods are still terminating (old-1, old-2, )' })
})
