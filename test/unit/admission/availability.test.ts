import t from 'tap'
import { adviseAvailability } from '../../../src/admission/availability.js'
import { admit, type AdmissionDeps } from '../../../src/admission/admit.js'
import type { Pod } from '../../../src/admission/pod.js'
import { parseReview } from '../../../src/admission/review.js'
import { LIMITS, mapNamespaces, namespace } from '../../helpers/pods.js'

type Json = Record<string, unknown>

const web = { name: 'web', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { port: 8080 } } }
const template = (spec: Json = {}): Pod => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [web], ...spec } })
const selector = { matchLabels: { app: 'web' } }
const advise = (kind: string, replicas: unknown, spec: Json = {}): string[] =>
  adviseAvailability(kind, { kind, spec: replicas === undefined ? {} : { replicas } }, template(spec))

t.test('one replica, written as such: nothing covers its own drain or the loss of its node', async t => {
  for (const kind of ['Deployment', 'StatefulSet', 'ReplicaSet']) {
    t.same(advise(kind, 1), ['1 replica: a drain, an eviction or a lost node leaves nothing to serve until a new Pod is Ready, and no pause covers that; run 2 or more'], kind)
  }
  t.same(advise('Deployment', undefined), [], 'no count written: an autoscaler may own it')
  t.same(advise('Deployment', 0), [], 'scaled to zero: nothing serves anyway')
  t.same(advise('DaemonSet', 1), [], 'a DaemonSet has a Pod per node by design')
  t.same(advise('Deployment', '1'), [], 'not a number: the API server will say so')
})

t.test('several replicas that nothing spreads over nodes', async t => {
  const warning = ['2 replicas, not spread over nodes (no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname): draining or losing one node may stop them all at once']
  t.same(advise('Deployment', 2), warning, 'nothing about placement')
  const spreads: Array<[string, Json]> = [
    ['a topology spread over nodes', { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }] }],
    ['a topology spread over zones', { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector }] }],
    ['required anti-affinity per node', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: selector }] } } }],
    ['preferred anti-affinity per node', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: selector } }] } } }]
  ]
  for (const [name, spec] of spreads) t.same(advise('Deployment', 3, spec), [], name)
  const notSpreads: Array<[string, Json]> = [
    ['a spread over something else', { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'example.com/rack', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }] }],
    ['pod affinity, which packs them together', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: selector }] } } }],
    ['malformed terms', { topologySpreadConstraints: 'x', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: ['x'], preferredDuringSchedulingIgnoredDuringExecution: ['x', { weight: 1 }] } } }],
    ['an affinity that is not an object', { affinity: 'x' }]
  ]
  for (const [name, spec] of notSpreads) t.same(advise('Deployment', 3, spec), [warning[0]!.replace(/^2/, '3')], name)
})

t.test('at kubectl apply: the advice reaches the workload\'s CREATE, and --no-advice (advice: false) turns it off', async t => {
  const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, selector, template: template() } }
  const review = parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', operation: 'CREATE', namespace: 'shop', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, object } })
  if (review instanceof Error) throw review
  const deps = (advice: boolean): AdmissionDeps => ({ namespaces: mapNamespaces([namespace()]), limits: LIMITS, excludeNamespaces: new Set(), advice })
  const on = await admit(review, deps(true))
  t.match(on.body, { response: { warnings: ['lameduck: Pods of this Deployment: 1 replica: a drain, an eviction or a lost node leaves nothing to serve until a new Pod is Ready, and no pause covers that; run 2 or more'] } })
  t.match((await admit(review, deps(false))).body, { response: { warnings: undefined } })
  for (const warning of (on.body as { response: { warnings: string[] } }).response.warnings) t.ok(warning.length < 256, 'under the API server\'s 256 characters per warning')
})
