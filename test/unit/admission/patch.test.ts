import t from 'tap'
import fc from 'fast-check'
import { diff, encodePatch } from '../../../src/admission/patch.js'
import { mutatePod } from '../../../src/admission/mutate.js'
import { resolveSettings } from '../../../src/admission/policy.js'
import type { Pod } from '../../../src/admission/pod.js'
import { LIMITS, applyPatch } from '../../helpers/pods.js'
import { ALLOWED_PATHS, annotations, podArbitrary } from '../../helpers/arbitrary-pods.js'

t.test('the diff creates missing parents and escapes / and ~ in keys', async t => {
  const original = { metadata: {}, spec: { containers: [{ name: 'a' }] } }
  const mutated = { metadata: { annotations: { 'lameduck.dev/injected': 'x', 'a~b': 'y' } }, spec: { containers: [{ name: 'a', lifecycle: { preStop: { sleep: { seconds: 1 } } } }] } }
  const operations = diff(original, mutated)
  t.same(operations.map(op => op.path).sort(), ['/metadata/annotations', '/spec/containers/0/lifecycle'])
  t.same(applyPatch(original, operations), mutated)
  const nested = diff({ metadata: { annotations: {} } }, { metadata: { annotations: { 'lameduck.dev/injected': 'x', 'a~b': 'y' } } })
  t.same(nested.map(op => op.path).sort(), ['/metadata/annotations/a~0b', '/metadata/annotations/lameduck.dev~1injected'])
})

t.test('equal objects give an empty patch', async t => {
  t.same(diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), [])
})

t.test('the patch travels as base64 JSON', async t => {
  const operations = diff({}, { a: 1 })
  t.same(JSON.parse(Buffer.from(encodePatch(operations), 'base64').toString()), [{ op: 'add', path: '/a', value: 1 }])
})

t.test('the patch of a mutation touches only what lameduck may change, and applied gives mutatePod\'s Pod', async t => {
  let mutated = 0
  fc.assert(fc.property(podArbitrary, annotations, (generated, nsAnnotations) => {
    // As the API server sends it: JSON, so no undefined values.
    const pod: Pod = JSON.parse(JSON.stringify(generated))
    const before = JSON.stringify(pod)
    const mutation = mutatePod(pod, resolveSettings(pod.metadata?.annotations, nsAnnotations, LIMITS), LIMITS.maxGrace)
    if (mutation.pod === undefined) return
    mutated++
    const operations = diff(pod, mutation.pod)
    for (const operation of operations) {
      t.ok(ALLOWED_PATHS.some(pattern => pattern.test(operation.path)), `${operation.op} ${operation.path} is an allowed path`)
      t.ok(operation.op === 'add' || operation.op === 'replace', `${operation.op} ${operation.path} adds or replaces`)
    }
    t.same(applyPatch(pod, operations), mutation.pod, 'applied to the original, the patch gives the mutated Pod')
    t.equal(JSON.stringify(pod), before, 'the original is not changed')
  }), { numRuns: 300 })
  t.ok(mutated > 50, `most runs mutated something (${mutated} of 300), so the property was exercised`)
})

t.test('the same object gives no patch; an own __proto__ key is diffed as a key', async t => {
  const doc = { a: { b: [1, 2] } }
  t.same(diff(doc, doc), [])
  t.same(diff({ a: [1] }, { a: { 0: 1 } }), [{ op: 'replace', path: '/a', value: { 0: 1 } }])
  // JSON.parse makes __proto__ an own key; the diff keeps it one (applying it is refused, as it should be).
  const withProto = JSON.parse('{"__proto__":{"a":1},"b":{"c":1}}') as Record<string, unknown>
  const changed = JSON.parse('{"__proto__":{"a":2},"b":{"c":1}}') as Record<string, unknown>
  changed.b = withProto.b
  t.same(diff(withProto, changed), [{ op: 'replace', path: '/__proto__/a', value: 2 }])
  t.same(diff(withProto, { b: withProto.b }), [{ op: 'remove', path: '/__proto__' }], 'not confused with Object.prototype')
})
