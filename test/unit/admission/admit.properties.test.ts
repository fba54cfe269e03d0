/**
 * Properties of /mutate's answers over arbitrary Pods (fast-check): the patch applies, the grace
 * period outlasts every injected sleep, nothing but the hooks, the grace period and the marker
 * changes, and a second pass over the result is empty.
 */
import t from 'tap'
import fc from 'fast-check'
import { admit } from '../../../src/admission/admit.js'
import { parseReview } from '../../../src/admission/review.js'
import { applyPatch, type Operation } from '../../../src/admission/patch.js'
import type { Container, Pod } from '../../../src/admission/pod.js'
import { LIMITS, mapNamespaces, namespace } from '../../helpers/pods.js'

const KEYS = ['lameduck.dev/prestop-sleep', 'lameduck.dev/shutdown-budget', 'lameduck.dev/containers', 'lameduck.dev/prestop-handler', 'lameduck.dev/injected']
const NAMES = ['web', 'api', 'envoy', 'proxy', 'sidecar', 'migrate', 'a~b', 'x/y']

const annotationValue = fc.oneof(
  fc.constantFrom('0', '1', '15s', '1m30s', '10m', '99999', 'soon', '', '*', 'web,api', 'ghost', ' , ', 'auto', 'sleep', 'exec', 'wait'),
  fc.string({ maxLength: 12 })
)
const annotations = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom('a/b', 'x~y', '~1/~0', 'app.kubernetes.io/name'), fc.string({ maxLength: 8 })), annotationValue, { maxKeys: 6 })
const hook = fc.constantFrom({ sleep: { seconds: 5 } }, { exec: { command: ['/drain'] } }, { httpGet: { path: '/stop', port: 8080 } })
const env = fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), value: fc.string({ maxLength: 10 }) }), { maxLength: 300 })

const container = (name: string): fc.Arbitrary<Container> => fc.record({
  name: fc.constant(name),
  image: fc.constantFrom('example/app:1', 'nginx:1.27', 'openresty/openresty', 'registry.local:5000/team/api@sha256:00'),
  env,
  lifecycle: fc.option(fc.record({ preStop: fc.option(hook, { nil: undefined }), postStart: fc.option(hook, { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined })
}, { requiredKeys: ['name', 'image'] })

const podArbitrary: fc.Arbitrary<Pod> = fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 2, maxLength: 6 }).chain(names => {
  const split = Math.max(1, Math.ceil(names.length / 2))
  const regular = names.slice(0, split)
  const init = names.slice(split)
  return fc.record({
    metadata: fc.option(fc.record({ generateName: fc.constant('web-'), annotations: fc.option(annotations, { nil: undefined }), labels: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), { nil: undefined }) }, { requiredKeys: ['generateName'] }), { nil: undefined }),
    spec: fc.record({
      containers: fc.tuple(...regular.map(container)),
      initContainers: fc.tuple(...init.map(name => fc.record({ name: fc.constant(name), image: fc.constant('init:1'), restartPolicy: fc.option(fc.constant('Always'), { nil: undefined }) }, { requiredKeys: ['name', 'image'] }))),
      terminationGracePeriodSeconds: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined })
    }, { requiredKeys: ['containers'] })
  }, { requiredKeys: ['spec'] }) as fc.Arbitrary<Pod>
})

const review = (pod: Pod) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop', object: pod }
})

async function patchOf (pod: Pod, nsAnnotations: Record<string, string>): Promise<Operation[]> {
  const parsed = parseReview(review(pod))
  if (parsed instanceof Error) throw parsed
  const { body } = await admit(parsed, { namespaces: mapNamespaces([namespace(nsAnnotations)]), limits: LIMITS, excludeNamespaces: new Set() })
  if (body.response.patch === undefined) return []
  if (body.response.patchType !== 'JSONPatch') throw new Error('a patch without patchType')
  return JSON.parse(Buffer.from(body.response.patch, 'base64').toString())
}

/** The only places a patch may touch. */
const ALLOWED = [
  /^\/spec\/terminationGracePeriodSeconds$/,
  /^\/metadata$/,
  /^\/metadata\/annotations$/,
  /^\/metadata\/annotations\/lameduck\.dev~1injected$/,
  /^\/spec\/containers\/\d+\/lifecycle$/,
  /^\/spec\/containers\/\d+\/lifecycle\/preStop$/
]

function injectedSleeps (pod: Pod): number[] {
  return pod.spec.containers.flatMap(c => {
    const preStop = c.lifecycle?.preStop as { sleep?: { seconds: number }, exec?: { command: string[] } } | undefined
    if (preStop?.sleep !== undefined) return [preStop.sleep.seconds]
    const match = /^sleep (\d+);/.exec(preStop?.exec?.command[2] ?? '') ?? /^(\d+)$/.exec(preStop?.exec?.command[0] === 'sleep' ? preStop.exec.command[1]! : '')
    return match === null ? [] : [Number(match[1])]
  })
}

t.test('over arbitrary Pods and annotations', async t => {
  let patchedRuns = 0
  await fc.assert(fc.asyncProperty(podArbitrary, annotations, async (generated, nsAnnotations) => {
    // Over the wire: JSON has no undefined values, so round-trip the generated object as the API server's would be.
    const pod: Pod = JSON.parse(JSON.stringify(generated))
    const original = structuredClone(pod)
    const operations = await patchOf(pod, nsAnnotations)
    if (JSON.stringify(pod) !== JSON.stringify(original)) throw new Error('the request object was changed')
    const patched = applyPatch(pod, operations)
    for (const operation of operations) {
      if (!ALLOWED.some(pattern => pattern.test(operation.path))) throw new Error(`patch touches ${operation.path}`)
      if (operation.op !== 'add' && operation.op !== 'replace') throw new Error(`patch does ${operation.op}`)
      if (operation.path.endsWith('/lifecycle') && Object.keys((operation as { value: object }).value).join() !== 'preStop') throw new Error('a new lifecycle holds more than preStop')
      if (operation.path.endsWith('/preStop') && operation.op !== 'add') throw new Error('an existing preStop was replaced')
    }
    if (operations.length > 0) {
      patchedRuns++
      const grace = patched.spec.terminationGracePeriodSeconds!
      for (const sleep of injectedSleeps(patched)) if (!(grace > sleep)) throw new Error(`grace ${grace} not above sleep ${sleep}`)
      if (grace < (pod.spec.terminationGracePeriodSeconds ?? 30)) throw new Error('grace was lowered')
    }
    const second = await patchOf(patched, nsAnnotations)
    if (second.length !== 0) throw new Error(`second pass patched: ${JSON.stringify(second)}`)
  }), { numRuns: 400 })
  t.ok(patchedRuns > 100, `most runs patched something (${patchedRuns} of 400), so the properties were exercised`)
})
