import t from 'tap'
import { decide, type DecideInput } from '../../../src/admission/decide.js'
import { diff } from '../../../src/admission/patch.js'
import { LIMITS, applyPatch, namespace, pod } from '../../helpers/pods.js'
import type { Pod } from '../../../src/admission/pod.js'

const CONTROLLER = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }]
const lastApplied = (spec: object): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', spec })
const applyEntry = (spec: object) => [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': spec } }]

function withGrace (grace: number, metadata: Record<string, unknown> = {}): Pod {
  const p = pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: grace } })
  p.metadata = { ...p.metadata, ...metadata }
  return p
}

const run = (p: Pod, extra: Partial<DecideInput> = {}) =>
  decide({ pod: p, namespaceName: 'shop', namespace: namespace(), limits: LIMITS, excludeNamespaces: new Set(), ...extra })

t.test('a bare Pod whose manifest sets a short grace period keeps it; the sleep is fitted under it', async t => {
  const decision = run(withGrace(5))
  t.equal(decision.action, 'mutate')
  if (decision.action !== 'mutate') return
  t.equal(decision.pod.spec.terminationGracePeriodSeconds, 5, 'grace unchanged')
  t.same(decision.pod.spec.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 4 } } }, 'sleep 4 < grace 5, as the API server requires')
  t.same(decision.warnings, ['terminationGracePeriodSeconds 5 is set by this Pod\'s own manifest and no controller owns the Pod, so it is kept (a re-apply must find it unchanged); preStop sleep shortened from 15s to 4s, leaving 1s of the 15s shutdown budget'])
  t.equal(decision.pod.metadata?.annotations?.['lameduck.dev/injected'], 'sleep=4s grace=5s handler=sleep containers=web')
  const again = run(decision.pod)
  t.equal(again.action, 'mutate')
  t.same(again.action === 'mutate' && diff(decision.pod, again.pod), [], 'a second pass changes nothing')
})

t.test('the sleep is kept when it fits, and the budget shrinks instead', async t => {
  const decision = run(withGrace(20))
  t.equal(decision.action === 'mutate' && decision.pod.spec.terminationGracePeriodSeconds, 20)
  t.match(decision.warnings, [/; preStop sleep 15s, leaving 5s of the 15s shutdown budget$/])
})

t.test('a budget of 0 and a sleep equal to the own grace period: the sleep is shortened, the grace period never raised', async t => {
  const decision = run(withGrace(15, { annotations: { 'lameduck.dev/shutdown-budget': '0' } }))
  t.equal(decision.action === 'mutate' && decision.pod.spec.terminationGracePeriodSeconds, 15, 'not raised to 16, which a re-apply would refuse')
  t.same(decision.action === 'mutate' && decision.pod.spec.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 14 } } })
})

t.test('a grace period of 0 or 1 leaves no room for a pause: the Pod is left unchanged', async t => {
  for (const grace of [0, 1]) {
    const decision = run(withGrace(grace))
    t.equal(decision.action === 'skip' && decision.reason, 'own grace period too short')
    t.match(decision.warnings, [/no preStop pause fits under it: Pod left unchanged$/])
  }
})

t.test('which grace periods count as set by the manifest', async t => {
  const cases: Array<[string, Pod, number, DecideInput['source']?]> = [
    ['the API server\'s default 30, from create', withGrace(30), 30],
    ['30 in a client-side applied manifest', withGrace(30, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied({ terminationGracePeriodSeconds: 30 }) } }), 30],
    ['30 in a server-side applied manifest', withGrace(30, { managedFields: applyEntry({ 'f:terminationGracePeriodSeconds': {} }) }), 30],
    ['30 written in a manifest (preview)', withGrace(30), 30, 'written'],
    ['5 in a workload\'s Pod template', withGrace(5), 5, 'template'],
    ['a client-side applied manifest without it', withGrace(30, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied({ containers: [] }) } }), 30],
    ['an unreadable last-applied annotation', withGrace(30, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{' } }), 30],
    ['a server-side applied manifest without it, and an update that has it', withGrace(30, { managedFields: [...applyEntry({ 'f:containers': {} }), { operation: 'Update', fieldsV1: { 'f:spec': { 'f:terminationGracePeriodSeconds': {} } } }, null] }), 30],
    ['a Pod a controller owns', withGrace(5, { ownerReferences: CONTROLLER }), 5],
    ['a Pod owned, but not by a controller', withGrace(5, { ownerReferences: [{ kind: 'ConfigMap', name: 'c', uid: 'u' }, null] }), 5]
  ]
  const settingsWant = { sleep: 20, budget: 25 }
  const ns = namespace({ 'lameduck.dev/prestop-sleep': `${settingsWant.sleep}s`, 'lameduck.dev/shutdown-budget': `${settingsWant.budget}s` })
  const kept = new Set(['30 in a client-side applied manifest', '30 in a server-side applied manifest', '30 written in a manifest (preview)', 'a Pod owned, but not by a controller'])
  for (const [name, p, before, source] of cases) {
    const decision = run(p, { namespace: ns, ...(source === undefined ? {} : { source }) })
    const grace = decision.action === 'mutate' ? decision.pod.spec.terminationGracePeriodSeconds : undefined
    t.equal(grace, kept.has(name) ? before : 45, `${name}: ${kept.has(name) ? 'kept' : 'raised to 45'}`)
  }
})

t.test('the patch applies and yields a Pod the API server accepts on re-apply: grace unchanged, sleep below it', async t => {
  const original = withGrace(5, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied({ terminationGracePeriodSeconds: 5 }) } })
  const decision = run(original)
  if (decision.action !== 'mutate') return t.fail('mutated')
  const patched = applyPatch(original, diff(original, decision.pod))
  t.equal(patched.spec.terminationGracePeriodSeconds, 5)
  t.ok((patched.spec.containers[0]!.lifecycle!.preStop as { sleep: { seconds: number } }).sleep.seconds < 5)
})
