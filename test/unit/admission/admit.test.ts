import t from 'tap'
import { admit, respond, type AdmissionDeps } from '../../../src/admission/admit.js'
import { parseReview, type ParsedReview } from '../../../src/admission/review.js'
import type { Operation } from '../../../src/admission/patch.js'
import type { Pod } from '../../../src/admission/pod.js'
import { LIMITS, answered, applyPatch, exampleReview, mapNamespaces, namespace } from '../../helpers/pods.js'

const deps = (overrides: Partial<AdmissionDeps> = {}): AdmissionDeps => ({
  namespaces: mapNamespaces([namespace({ 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' })]),
  limits: LIMITS,
  excludeNamespaces: new Set(['kube-system', 'lameduck-system']),
  ...overrides
})

const parse = (body: unknown): ParsedReview => {
  const parsed = parseReview(body)
  if (parsed instanceof Error) throw parsed
  return parsed
}

const operationsOf = (patch: string | undefined): Operation[] => JSON.parse(Buffer.from(patch ?? '', 'base64').toString())

t.test('a Deployment-created Pod: the patch applied gives the expected Pod', async t => {
  const review = exampleReview()
  const { body, outcome } = answered(await admit(parse(review), deps()))
  t.equal(body.apiVersion, 'admission.k8s.io/v1')
  t.equal(body.kind, 'AdmissionReview')
  t.equal(body.response.uid, review.request.uid, 'the uid is echoed')
  t.equal(body.response.allowed, true)
  t.equal(body.response.patchType, 'JSONPatch')
  const operations = operationsOf(body.response.patch)
  t.matchSnapshot(operations, 'patch operations')
  const patched = applyPatch(review.request.object, operations)
  const expected: Pod = structuredClone(review.request.object)
  for (const container of expected.spec.containers) container.lifecycle = { preStop: { sleep: { seconds: 20 } } }
  expected.spec.terminationGracePeriodSeconds = 45
  expected.metadata!.annotations!['lameduck.dev/injected'] = 'sleep=20s grace=45s handler=sleep containers=web,envoy'
  t.same(patched, expected, 'only the hooks, the grace period and the marker changed')
  t.same(body.response.warnings, ['lameduck: terminationGracePeriodSeconds raised from 30 to 45 (preStop sleep 20s + shutdown budget 25s)'])
  t.same({ decision: outcome.decision, reason: outcome.reason, warnings: outcome.warnings }, { decision: 'mutate', reason: 'containers web,envoy', warnings: 1 })
  t.equal(outcome.patchBytes, body.response.patch?.length)

  t.test('the same review of the patched Pod gives no second patch', async t => {
    const again = exampleReview()
    again.request.object = patched
    const second = answered(await admit(parse(again), deps()))
    t.equal(second.body.response.patch, undefined)
    t.equal(second.body.response.patchType, undefined)
    t.equal(second.body.response.warnings, undefined, 'and nothing left to explain')
    t.equal(second.outcome.reason, 'already injected')
  })
})

t.test('skips answer allowed with no patch, keeping the uid', async t => {
  const cases: Array<[string, (r: Record<string, unknown>) => void, string]> = [
    ['an UPDATE', r => { r.operation = 'UPDATE' }, 'operation UPDATE'],
    ['kube-system', r => { r.namespace = 'kube-system' }, 'namespace excluded'],
    ['an unknown namespace', r => { r.namespace = 'ghost' }, 'namespace unknown']
  ]
  for (const [name, change, reason] of cases) {
    const review = exampleReview() as unknown as { request: Record<string, unknown> }
    change(review.request)
    const { body, outcome } = answered(await admit(parse(review), deps()))
    t.same(Object.keys(body.response).filter(key => key !== 'warnings').sort(), ['allowed', 'uid'], `${name}: no patch, no patchType`)
    t.equal(body.response.uid, '4f8c6c1e-2b7a-4d6e-9a51-0c1d2e3f4a5b', name)
    t.equal(outcome.decision, 'skip', name)
    t.equal(outcome.reason, reason, name)
  }
})

t.test('an excluded namespace is not even looked up', async t => {
  const namespaces = mapNamespaces([])
  const review = exampleReview()
  review.request.namespace = 'lameduck-system'
  await admit(parse(review), deps({ namespaces }))
  t.equal(namespaces.calls, 0)
})

t.test('an error of ours admits the Pod unchanged, with a warning', async t => {
  // A lookup that breaks its contract (labels must be an object): a bug, not an unreadable namespace.
  const broken = { get: async () => ({ name: 'shop', labels: null as unknown as Record<string, string>, annotations: {} }), ready: () => true, close: async () => {} }
  const { body, outcome } = answered(await admit(parse(exampleReview()), deps({ namespaces: broken })))
  t.equal(body.response.allowed, true)
  t.equal(body.response.patch, undefined)
  t.match(body.response.warnings, [/lameduck: internal error; the Pod was admitted unchanged/])
  t.equal(outcome.decision, 'error')
  t.type(outcome.error, TypeError)
})

t.test('a namespace that cannot be read is answered 500, so the API server applies failurePolicy', async t => {
  const unreadable = { get: async () => { throw new Error('connect ECONNREFUSED 10.0.0.1:443') }, ready: () => true, close: async () => {} }
  const admission = await admit(parse(exampleReview()), deps({ namespaces: unreadable }))
  t.equal(admission.status, 500)
  t.same(admission.body, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code: 500, reason: 'InternalError', message: 'lameduck cannot decide: namespace "shop" could not be read from the API server' }, 'a Status, whose message the API server passes on')
  t.notMatch(JSON.stringify(admission.body), /ECONNREFUSED|10\.0\.0\.1/, 'no internals')
  t.match(admission.outcome, { decision: 'unavailable', reason: 'namespace unavailable', patchBytes: 0, warnings: 0, error: { message: /ECONNREFUSED/ } })
})

t.test('responses: patchType only with a patch; long warnings are cut', async t => {
  t.same(respond('u', undefined, []), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } })
  t.same(respond('u', 'cGF0Y2g=', []).response, { uid: 'u', allowed: true, patchType: 'JSONPatch', patch: 'cGF0Y2g=' })
  const [long] = respond('u', undefined, ['x'.repeat(400)]).response.warnings!
  t.equal(long!.length, 256)
  t.ok(long!.endsWith('…'))
})
