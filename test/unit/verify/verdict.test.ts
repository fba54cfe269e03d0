import t from 'tap'
import { describeMutated, mutationOf, probePod, reasons, type DryRunPod } from '../../../src/verify/verdict.js'

const mutated: DryRunPod = {
  metadata: { annotations: { 'lameduck.dev/injected': 'sleep=15s grace=30s handler=sleep containers=probe' } },
  spec: {
    terminationGracePeriodSeconds: 30,
    containers: [{ name: 'probe', lifecycle: { preStop: { sleep: { seconds: 15 } } } }]
  }
}

t.test('the probe Pod: one regular container, nothing of its own that lameduck would respect', async t => {
  const probe = { kind: 'Pod', metadata: { generateName: 'lameduck-verify-' }, spec: { containers: [{ name: 'probe' }] } }
  t.match(probePod(), probe)
  t.notMatch(JSON.stringify(probePod()), /terminationGracePeriodSeconds|lifecycle|restartPolicy/)
})

t.test('mutated only with the marker, the hook and the grace period', async t => {
  const marker = 'sleep=15s grace=30s handler=sleep containers=probe'
  t.same(mutationOf(mutated), { marker, preStop: 'sleep 15s (the native sleep action)', grace: 30 })
  const withHook = (preStop: object): DryRunPod =>
    ({ ...mutated, spec: { ...mutated.spec, containers: [{ name: 'probe', lifecycle: { preStop } }] } })
  const exec = withHook({ exec: { command: ['sleep', '15'] } })
  t.equal(mutationOf(exec)?.preStop, 'exec ["sleep","15"]')
  t.equal(mutationOf(withHook({}))?.preStop, 'exec []')
  t.equal(mutationOf({ spec: mutated.spec }), undefined, 'no marker')
  const noHook = { ...mutated, spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'probe' }] } }
  t.equal(mutationOf(noHook), undefined, 'no hook')
  t.equal(mutationOf({ ...mutated, spec: { containers: mutated.spec!.containers } }), undefined, 'no grace period')
  t.equal(mutationOf({}), undefined)
})

t.test('what a mutated dry run says', async t => {
  t.same(describeMutated('shop', mutationOf(mutated)!), [
    'Pods created in namespace shop now are mutated by lameduck (a server-side dry run of a Pod):',
    '  preStop   sleep 15s (the native sleep action)',
    '  grace     terminationGracePeriodSeconds 30',
    '  marker    lameduck.dev/injected: sleep=15s grace=30s handler=sleep containers=probe'
  ])
})

t.test('why not: the most specific reasons that could be read, else the API server giving up on lameduck', async t => {
  const optIn = 'the namespace is not opted in: kubectl label namespace shop lameduck.dev/inject=enabled'
  t.same(reasons('shop', { labels: {}, webhook: 'present' }, 'lameduck'), [optIn])
  t.same(reasons('shop', { labels: 'absent' }, 'lameduck'), ['namespace shop does not exist'])
  const enabled = { 'lameduck.dev/inject': 'enabled' }
  const missing = 'MutatingWebhookConfiguration lameduck does not exist: is lameduck installed?'
  t.same(reasons('shop', { labels: enabled, webhook: 'absent' }, 'lameduck'), [missing])
  t.match(reasons('shop', { webhook: 'no caBundle' }, 'lameduck'), [/has no caBundle yet/])
  t.match(reasons('shop', { labels: enabled, webhook: 'present' }, 'lameduck'), [/^the API server got no answer from lameduck and let the Pod through/])
  t.match(reasons('shop', {}, 'lameduck'), [/got no answer/], 'nothing could be read (RBAC)')
  const refused = reasons('shop', {}, 'lameduck', 'failed calling webhook')
  t.same(refused, ['the API server refused it: failed calling webhook'], 'refused: the API server\'s own words')
})
