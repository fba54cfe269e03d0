import t from 'tap'
import { adviseAvailability } from '../../../src/admission/availability.js'
import { admit, type AdmissionDeps } from '../../../src/admission/admit.js'
import type { Pod } from '../../../src/admission/pod.js'
import { parseReview } from '../../../src/admission/review.js'
import { LIMITS, mapNamespaces, namespace } from '../../helpers/pods.js'

type Json = Record<string, unknown>

const ONE = '1 replica: a drain, an eviction or a lost node leaves nothing to serve until a new Pod is Ready, ' +
  'and no pause covers that; run 2 or more'
const notSpread = (replicas: number): string => `${replicas} replicas, not spread over nodes ` +
  '(no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname): draining or losing one node may stop them all at once'

const web = { name: 'web', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { port: 8080 } } }
const labels = { app: 'web' }
const template = (spec: Json = {}): Pod => ({ metadata: { labels }, spec: { containers: [web], ...spec } })
const selector = { matchLabels: labels }
const advise = (kind: string, replicas: unknown, spec: Json = {}): string[] =>
  adviseAvailability(kind, { kind, spec: replicas === undefined ? {} : { replicas } }, template(spec))
const spreadOn = (topologyKey: string, whenUnsatisfiable = 'ScheduleAnyway'): Json =>
  ({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey, whenUnsatisfiable, labelSelector: selector }] })
const term = { topologyKey: 'kubernetes.io/hostname', labelSelector: selector }
const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution'
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution'

t.test('one replica, written as such: nothing covers its own drain or the loss of its node', async t => {
  for (const kind of ['Deployment', 'StatefulSet', 'ReplicaSet']) t.same(advise(kind, 1), [ONE], kind)
  t.same(advise('Deployment', undefined), [], 'no count written: an autoscaler may own it')
  t.same(advise('Deployment', 0), [], 'scaled to zero: nothing serves anyway')
  t.same(advise('DaemonSet', 1), [], 'a DaemonSet has a Pod per node by design')
  t.same(advise('Deployment', '1'), [], 'not a number: the API server will say so')
})

t.test('several replicas that nothing spreads over nodes', async t => {
  t.same(advise('Deployment', 2), [notSpread(2)], 'nothing about placement')
  const spreads: Array<[string, Json]> = [
    ['a topology spread over nodes', spreadOn('kubernetes.io/hostname')],
    ['a topology spread over zones', spreadOn('topology.kubernetes.io/zone', 'DoNotSchedule')],
    ['required anti-affinity per node', { affinity: { podAntiAffinity: { [REQUIRED]: [term] } } }],
    ['preferred anti-affinity per node', { affinity: { podAntiAffinity: { [PREFERRED]: [{ weight: 100, podAffinityTerm: term }] } } }]
  ]
  for (const [name, spec] of spreads) t.same(advise('Deployment', 3, spec), [], name)
  const malformed = { [REQUIRED]: ['x'], [PREFERRED]: ['x', { weight: 1 }] }
  const notSpreads: Array<[string, Json]> = [
    ['a spread over something else', spreadOn('example.com/rack')],
    ['pod affinity, which packs them together', { affinity: { podAffinity: { [REQUIRED]: [term] } } }],
    ['malformed terms', { topologySpreadConstraints: 'x', affinity: { podAntiAffinity: malformed } }],
    ['an affinity that is not an object', { affinity: 'x' }]
  ]
  for (const [name, spec] of notSpreads) t.same(advise('Deployment', 3, spec), [notSpread(3)], name)
})

t.test('at kubectl apply: the advice reaches the workload\'s CREATE, and --no-advice (advice: false) turns it off', async t => {
  const spec = { replicas: 1, selector, template: template() }
  const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec }
  const kind = { group: 'apps', version: 'v1', kind: 'Deployment' }
  const request = { uid: 'u1', operation: 'CREATE', namespace: 'shop', kind, object }
  const review = parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request })
  if (review instanceof Error) throw review
  const deps = (advice: boolean): AdmissionDeps =>
    ({ namespaces: mapNamespaces([namespace()]), limits: LIMITS, excludeNamespaces: new Set(), advice })
  const on = await admit(review, deps(true))
  t.match(on.body, { response: { warnings: [`lameduck: Pods of this Deployment: ${ONE}`] } })
  t.match((await admit(review, deps(false))).body, { response: { warnings: undefined } })
  const warnings = (on.body as { response: { warnings: string[] } }).response.warnings
  for (const warning of warnings) t.ok(warning.length < 256, 'under the API server\'s 256 characters per warning')
})
