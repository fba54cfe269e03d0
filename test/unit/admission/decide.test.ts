import t from 'tap'
import { decide, type DecideInput } from '../../../src/admission/decide.js'
import { LIMITS, namespace, pod } from '../../helpers/pods.js'

const input = (overrides: Partial<DecideInput> = {}): DecideInput => ({
  pod: pod([{ name: 'web' }]),
  namespaceName: 'shop',
  namespace: namespace({ 'lameduck.dev/prestop-sleep': '20s' }),
  limits: LIMITS,
  excludeNamespaces: new Set(['kube-system', 'lameduck-system']),
  ...overrides
})

t.test('skips, each with its reason', async t => {
  const cases: Array<[string, Partial<DecideInput>, string, RegExp?]> = [
    ['a Job Pod', { pod: pod([{ name: 'w' }], { spec: { restartPolicy: 'Never' } }) }, 'restartPolicy Never'],
    ['a retrying Job Pod', { pod: pod([{ name: 'w' }], { spec: { restartPolicy: 'OnFailure' } }) }, 'restartPolicy OnFailure'],
    ['a mirror Pod', { pod: pod([{ name: 'w' }], { annotations: { 'kubernetes.io/config.mirror': 'abc' } }) }, 'mirror Pod'],
    ['a Pod that opts out', { pod: pod([{ name: 'w' }], { labels: { 'lameduck.dev/inject': 'disabled' } }) }, 'Pod opted out'],
    ['an excluded namespace', { namespaceName: 'kube-system', namespace: namespace({}, 'kube-system') }, 'namespace excluded'],
    ['an unknown namespace', { namespace: undefined }, 'namespace unknown', /could not find namespace "shop"; Pod left unchanged/],
    ['a namespace not opted in', { namespace: { name: 'shop', labels: {}, annotations: {} } }, 'namespace not opted in', /namespace "shop" is not labeled lameduck.dev\/inject=enabled/],
    ['no eligible container', { pod: pod([{ name: 'w', lifecycle: { preStop: { exec: { command: ['x'] } } } }]) }, 'no eligible container', /kept as it is/]
  ]
  for (const [name, overrides, reason, warning] of cases) {
    const decision = decide(input(overrides))
    t.equal(decision.action, 'skip', name)
    t.equal(decision.action === 'skip' && decision.reason, reason, name)
    if (warning === undefined) t.same(decision.warnings, [], `${name}: nothing to warn about`)
    else t.match(decision.warnings[0], warning, `${name}: warning`)
  }
})

t.test('an eligible Pod is mutated by its namespace\'s annotations', async t => {
  const decision = decide(input())
  t.equal(decision.action, 'mutate')
  if (decision.action !== 'mutate') return
  t.equal(decision.grace, 35)
  t.same(decision.containers, ['web'])
  t.same(decision.pod.spec.containers[0]?.lifecycle, { preStop: { sleep: { seconds: 20 } } })
})

t.test('an enabled label on the Pod itself does not matter; only disabled opts out', async t => {
  t.equal(decide(input({ pod: pod([{ name: 'w' }], { labels: { 'lameduck.dev/inject': 'enabled' } }) })).action, 'mutate')
})
