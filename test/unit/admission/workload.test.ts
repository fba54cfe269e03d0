import t from 'tap'
import { reviewWorkload, type WorkloadInput } from '../../../src/admission/workload.js'
import { admit, type AdmissionDeps } from '../../../src/admission/admit.js'
import { parseReview, type ParsedReview } from '../../../src/admission/review.js'
import { LIMITS, mapNamespaces, namespace } from '../../helpers/pods.js'

type Json = Record<string, unknown>

const SPREAD = {
  maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway',
  labelSelector: { matchLabels: { app: 'web' } }
}

const deployment = (spec: Json = {}, template: Json = {}, metadata: Json = {}): Json => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', ...metadata },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{
          name: 'web', image: 'app:1', readinessProbe: { httpGet: { port: 8080 } }, ports: [{ containerPort: 8080 }]
        }],
        terminationGracePeriodSeconds: 30,
        topologySpreadConstraints: [SPREAD],
        ...template
      }
    },
    ...spec
  }
})

const input = (object: Json, overrides: Partial<WorkloadInput> = {}): WorkloadInput => ({
  workload: { kind: String(object.kind), object },
  namespaceName: 'shop',
  namespace: namespace({ 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' }),
  limits: LIMITS,
  excludeNamespaces: new Set(['kube-system']),
  advice: true,
  ...overrides
})

t.test('a Deployment gets the warnings its Pods would get, saying they are about its Pods', async t => {
  t.same(reviewWorkload(input(deployment())), {
    reason: 'Deployment reviewed: its Pods get the hook',
    warnings: ['Pods of this Deployment: terminationGracePeriodSeconds raised from 30 to 45 (preStop sleep 20s + shutdown budget 25s)']
  })
})

t.test('a template\'s own short grace period: one warning, saying it is raised and what to write', async t => {
  const short = deployment({}, { terminationGracePeriodSeconds: 10 })
  const advice = 'terminationGracePeriodSeconds 10 in the Pod template is raised to 45 in every Pod; ' +
    'write 45 in the manifest, so that it says what runs'
  t.same(reviewWorkload(input(short)).warnings, [`Pods of this Deployment: ${advice}`])
  const note = 'terminationGracePeriodSeconds raised from 10 to 45 (preStop sleep 20s + shutdown budget 25s)'
  t.same(reviewWorkload(input(short, { advice: false })).warnings, [`Pods of this Deployment: ${note}`], 'no advice')
})

t.test('what is not reviewed, or has nothing to say', async t => {
  const cases: Array<[string, WorkloadInput, string, string[]]> = [
    ['a ReplicaSet a Deployment made', input({ ...deployment({}, {}, { ownerReferences: [{ kind: 'Deployment', controller: true }] }), kind: 'ReplicaSet' }), 'ReplicaSet owned by a controller', []],
    ['a template the API server will refuse', input(deployment({ template: { spec: {} } })), 'Deployment without a usable Pod template', []],
    ['a Job: its Pods are left alone', input({ kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task' }] } } } }), 'Job reviewed: restartPolicy Never', []],
    ['a namespace not opted in', input(deployment(), { namespace: { name: 'shop', labels: {}, annotations: {} } }), 'Deployment reviewed: namespace not opted in',
      ['Pods of this Deployment: namespace "shop" is not labeled lameduck.dev/inject=enabled; Pod left unchanged']]
  ]
  for (const [name, given, reason, warnings] of cases) t.same(reviewWorkload(given), { reason, warnings }, name)
})

t.test('a CronJob\'s and a StatefulSet\'s templates are found where they are', async t => {
  const cron = { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'w' }] } } } } } }
  t.match(reviewWorkload(input(cron)).warnings, [/^Pods of this CronJob: terminationGracePeriodSeconds raised from 30 to 45/])
  t.match(reviewWorkload(input({ ...deployment(), kind: 'StatefulSet' })).warnings, [/^Pods of this StatefulSet: /])
  t.match(reviewWorkload(input({ ...deployment(), metadata: undefined })).warnings, [/^Pods of this Deployment: /], 'no metadata: no owner')
})

t.test('through admit: allowed, never a patch, the warnings prefixed; advice off with advice: false', async t => {
  const review = (object: Json, operation = 'CREATE'): ParsedReview => {
    const parsed = parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', operation, namespace: 'shop', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, object } })
    if (parsed instanceof Error) throw parsed
    return parsed
  }
  const deps = (overrides: Partial<AdmissionDeps> = {}): AdmissionDeps => ({
    namespaces: mapNamespaces([namespace()]),
    limits: LIMITS,
    excludeNamespaces: new Set(),
    ...overrides
  })
  const noProbe = deployment({}, { containers: [{ name: 'web', image: 'app:1', ports: [{ containerPort: 8080 }] }] })
  for (const operation of ['CREATE', 'UPDATE']) {
    const { body, outcome } = await admit(review(noProbe, operation), deps())
    if (!('response' in body)) return t.fail('an AdmissionReview')
    t.same(Object.keys(body.response).sort(), ['allowed', 'uid', 'warnings'], `${operation}: no patch`)
    t.same(body.response.warnings, ['lameduck: Pods of this Deployment: container "web" has ports but no readinessProbe: a new Pod gets traffic before it is ready, so a rollout drops requests even with lameduck'])
    t.match(outcome, { decision: 'skip', reason: 'Deployment reviewed: its Pods get the hook', patchBytes: 0, warnings: 1 })
  }
  t.match((await admit(review(noProbe), deps({ advice: false }))).body, { response: { uid: 'u1', warnings: undefined } }, 'no advice')
  const broken = { get: async () => { throw new Error('API server down') }, ready: () => true, close: async () => {} }
  t.match(await admit(review(noProbe), deps({ namespaces: broken })), { status: 500, outcome: { decision: 'unavailable' } }, 'a namespace that cannot be read: 500, and failurePolicy Ignore lets the workload through')
  const excluded = mapNamespaces([namespace()])
  const answer = await admit(review(noProbe), deps({ namespaces: excluded, excludeNamespaces: new Set(['shop']) }))
  t.equal(excluded.calls, 0, 'an excluded namespace is not looked up')
  t.equal(answer.outcome.reason, 'Deployment reviewed: namespace excluded')
})
