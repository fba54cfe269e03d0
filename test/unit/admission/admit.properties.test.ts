/**
 * Properties of /mutate's answers over arbitrary Pods (fast-check): the patch applies, the grace
 * period outlasts every injected sleep, nothing but the hooks, the grace period and the marker
 * changes, and a second pass over the result is empty.
 */
import t from 'tap'
import fc from 'fast-check'
import { admit } from '../../../src/admission/admit.js'
import { parseReview } from '../../../src/admission/review.js'
import type { Operation } from '../../../src/admission/patch.js'
import type { Pod } from '../../../src/admission/pod.js'
import { LIMITS, answered, applyPatch, mapNamespaces, namespace } from '../../helpers/pods.js'
import { ALLOWED_PATHS, annotations, podArbitrary } from '../../helpers/arbitrary-pods.js'

const review = (pod: Pod) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop', object: pod }
})

async function patchOf (pod: Pod, nsAnnotations: Record<string, string>): Promise<Operation[]> {
  const parsed = parseReview(review(pod))
  if (parsed instanceof Error) throw parsed
  const { body } = answered(
    await admit(parsed, {
      namespaces: mapNamespaces([namespace(nsAnnotations)]),
      limits: LIMITS,
      excludeNamespaces: new Set()
    })
  )
  if (body.response.patch === undefined) return []
  if (body.response.patchType !== 'JSONPatch') throw new Error('a patch without patchType')
  return JSON.parse(Buffer.from(body.response.patch, 'base64').toString())
}

/** The sleeps lameduck added (a container's own hook may be invalid already; the API server judges it). */
function injectedSleeps (pod: Pod, original: Pod): number[] {
  return pod.spec.containers
    .filter((_, i) => original.spec.containers[i]?.lifecycle?.preStop === undefined)
    .flatMap(c => {
      const preStop = c.lifecycle?.preStop as { sleep?: { seconds: number }; exec?: { command: string[] } } | undefined
      if (preStop?.sleep !== undefined) return [preStop.sleep.seconds]
      const match =
        /^sleep (\d+);/.exec(preStop?.exec?.command[2] ?? '') ??
        /^(\d+)$/.exec(preStop?.exec?.command[0] === 'sleep' ? preStop.exec.command[1]! : '')
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
      if (!ALLOWED_PATHS.some(pattern => pattern.test(operation.path))) throw new Error(`patch touches ${operation.path}`)
      if (operation.op !== 'add' && operation.op !== 'replace') throw new Error(`patch does ${operation.op}`)
      if (operation.path.endsWith('/lifecycle') && Object.keys((operation as { value: object }).value).join() !== 'preStop') throw new Error('a new lifecycle holds more than preStop')
      if (operation.path.endsWith('/preStop') && operation.op !== 'add') throw new Error('an existing preStop was replaced')
    }
    if (operations.length > 0) {
      patchedRuns++
      const grace = patched.spec.terminationGracePeriodSeconds!
      for (const sleep of injectedSleeps(patched, pod)) if (!(grace > sleep)) throw new Error(`grace ${grace} not above sleep ${sleep}`)
      if (grace < (pod.spec.terminationGracePeriodSeconds ?? 30)) throw new Error('grace was lowered')
    }
    const second = await patchOf(patched, nsAnnotations)
    if (second.length !== 0) throw new Error(`second pass patched: ${JSON.stringify(second)}`)
  }), { numRuns: 400 })
  t.ok(patchedRuns > 100, `most runs patched something (${patchedRuns} of 400), so the properties were exercised`)
})
