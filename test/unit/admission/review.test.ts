import t from 'tap'
import { checkPod, parseReview } from '../../../src/admission/review.js'
import { exampleReview } from '../../helpers/pods.js'

const withRequest = (change: (request: Record<string, unknown>) => void): unknown => {
  const review = exampleReview() as unknown as { request: Record<string, unknown> }
  change(review.request)
  return review
}

t.test('reads a Pod CREATE review', async t => {
  const parsed = parseReview(exampleReview())
  if (parsed instanceof Error) throw parsed
  t.equal(parsed.uid, '4f8c6c1e-2b7a-4d6e-9a51-0c1d2e3f4a5b')
  t.equal(parsed.namespace, 'shop')
  t.equal(parsed.operation, 'CREATE')
  t.equal(parsed.dryRun, false)
  t.equal(parsed.notForUs, undefined)
  t.equal(parsed.pod?.metadata?.generateName, 'web-7d9f8b6c5-')
  t.equal(parseReview(withRequest(r => { r.dryRun = true })) instanceof Error, false)
  t.equal((parseReview(withRequest(r => { r.dryRun = true })) as { dryRun: boolean }).dryRun, true)
})

t.test('a request that is not a Pod CREATE is read but not for us', async t => {
  const cases: Array<[string, (r: Record<string, unknown>) => void, string]> = [
    ['an UPDATE', r => { r.operation = 'UPDATE' }, 'operation UPDATE'],
    ['a ConfigMap', r => { r.kind = { version: 'v1', kind: 'ConfigMap' }; r.object = { data: {} } }, 'kind ConfigMap'],
    ['a Deployment\'s scale', r => { r.kind = { group: 'apps', version: 'v1', kind: 'Deployment' }; r.subResource = 'scale' }, 'kind Deployment'],
    ['a Deployment deleted', r => { r.kind = { group: 'apps', version: 'v1', kind: 'Deployment' }; r.operation = 'DELETE' }, 'kind Deployment'],
    ['a Deployment of another group', r => { r.kind = { group: 'example.com', version: 'v1', kind: 'Deployment' } }, 'kind Deployment'],
    ['a Pod of another group', r => { r.kind = { group: 'example.com', version: 'v1', kind: 'Pod' } }, 'kind Pod'],
    ['no kind at all', r => { delete r.kind }, 'kind undefined'],
    ['a subresource', r => { r.subResource = 'ephemeralcontainers'; r.object = null }, 'subresource ephemeralcontainers'],
    ['a cluster-scoped request', r => { r.operation = 'DELETE'; delete r.namespace }, 'operation DELETE']
  ]
  for (const [name, change, reason] of cases) {
    const parsed = parseReview(withRequest(change))
    t.notOk(parsed instanceof Error, name)
    t.equal((parsed as { notForUs: string }).notForUs, reason, name)
    t.equal((parsed as { pod: unknown }).pod, undefined, `${name}: no Pod`)
  }
  t.equal((parseReview(withRequest(r => { r.subResource = '' })) as { notForUs: unknown }).notForUs, undefined, 'an empty subresource is none')
  t.equal((parseReview(withRequest(r => { r.kind = { version: 'v1', kind: 'Pod' } })) as { notForUs: unknown }).notForUs, undefined, 'the core group may be left out')
})

t.test('a workload\'s CREATE or UPDATE is read as a workload, with its object unchecked', async t => {
  const kinds: Array<[string, string]> = [['apps', 'Deployment'], ['apps', 'StatefulSet'], ['apps', 'DaemonSet'], ['apps', 'ReplicaSet'], ['batch', 'Job'], ['batch', 'CronJob']]
  for (const [group, kind] of kinds) {
    for (const operation of ['CREATE', 'UPDATE']) {
      const parsed = parseReview(withRequest(r => { r.kind = { group, version: 'v1', kind }; r.operation = operation; r.object = { spec: 'anything' } }))
      t.same(
        parsed instanceof Error
          ? parsed.message
          : { workload: parsed.workload, pod: parsed.pod, notForUs: parsed.notForUs },
        { workload: { kind, object: { spec: 'anything' } }, pod: undefined, notForUs: undefined },
        `${kind} ${operation}`
      )
    }
  }
  const deployment = (change: (r: Record<string, unknown>) => void): unknown => withRequest(r => { r.kind = { group: 'apps', version: 'v1', kind: 'Deployment' }; change(r) })
  t.match(parseReview(deployment(r => { delete r.namespace })), { message: 'request.namespace must be a non-empty string for a Deployment' })
  t.match(parseReview(deployment(r => { r.object = [] })), { message: 'request.object must be an object' })
})

t.test('names what is wrong with a body that is not a usable AdmissionReview', async t => {
  const cases: Array<[string, unknown, string]> = [
    ['null', null, 'body must be an AdmissionReview object'],
    ['an array', [], 'body must be an AdmissionReview object'],
    ['another kind', { kind: 'Pod' }, 'kind must be AdmissionReview, not "Pod"'],
    ['no kind', {}, 'kind must be AdmissionReview, not null'],
    ['v1beta1', { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1' }, 'apiVersion must be admission.k8s.io/v1, not "admission.k8s.io/v1beta1"'],
    ['no apiVersion', { kind: 'AdmissionReview' }, 'apiVersion must be admission.k8s.io/v1, not null'],
    ['no request', { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' }, 'request must be an object'],
    ['no uid', withRequest(r => { delete r.uid }), 'request.uid must be a non-empty string'],
    ['an empty uid', withRequest(r => { r.uid = '' }), 'request.uid must be a non-empty string'],
    ['no operation', withRequest(r => { r.operation = 5 }), 'request.operation must be a non-empty string'],
    ['no namespace', withRequest(r => { delete r.namespace }), 'request.namespace must be a non-empty string for a Pod'],
    ['no object', withRequest(r => { delete r.object }), 'request.object must be an object'],
    ['no spec', withRequest(r => { r.object = { metadata: {} } }), 'request.object.spec must be an object'],
    ['metadata a string', withRequest(r => { r.object = { metadata: 'x', spec: {} } }), 'request.object.metadata must be an object'],
    ['containers missing', withRequest(r => { r.object = { spec: {} } }), 'request.object.spec.containers must be an array'],
    ['a container not an object', withRequest(r => { r.object = { spec: { containers: [1] } } }), 'request.object.spec.containers[0] must be an object'],
    ['a container without a name', withRequest(r => { r.object = { spec: { containers: [{}] } } }), 'request.object.spec.containers[0].name must be a string'],
    ['a lifecycle that is a list', withRequest(r => { r.object = { spec: { containers: [{ name: 'a', lifecycle: [] }] } } }), 'request.object.spec.containers[0].lifecycle must be an object'],
    ['init containers not a list', withRequest(r => { r.object = { spec: { containers: [], initContainers: {} } } }), 'request.object.spec.initContainers must be an array'],
    ['an annotation not a string', withRequest(r => { r.object = { metadata: { annotations: { 'a/b': 1 } }, spec: { containers: [] } } }), 'request.object.metadata.annotations["a/b"] must be a string'],
    ['labels a list', withRequest(r => { r.object = { metadata: { labels: [] }, spec: { containers: [] } } }), 'request.object.metadata.labels must be an object of strings'],
    ['a fractional grace', withRequest(r => { r.object = { spec: { containers: [], terminationGracePeriodSeconds: 1.5 } } }), 'request.object.spec.terminationGracePeriodSeconds must be an integer']
  ]
  for (const [name, body, message] of cases) {
    const parsed = parseReview(body)
    t.type(parsed, Error, name)
    t.equal((parsed as Error).message, message, name)
  }
})

t.test('nulls stand for absent optional fields, as Go encodes them', async t => {
  t.equal(checkPod({ metadata: null, spec: { containers: [{ name: 'a', lifecycle: null }], initContainers: null, terminationGracePeriodSeconds: null } }, 'pod'), undefined)
  t.equal(checkPod({ metadata: { labels: null, annotations: { a: 'b' } }, spec: { containers: [] } }, 'pod'), undefined)
})
