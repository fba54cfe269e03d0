import t from 'tap'
import fc from 'fast-check'
import jsonPatch from 'fast-json-patch'
import { applyPatch, diff, encodePatch } from '../../../src/admission/patch.js'

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

t.test('a patch that does not apply is refused, and the document is not changed', async t => {
  const document = { a: 1 }
  t.throws(() => applyPatch(document, [{ op: 'replace', path: '/missing/deep', value: 1 }]))
  t.same(document, { a: 1 })
})

t.test('the diff is compare\'s patch, also when the two share subtrees by reference', async t => {
  // b is built from a: each key either shares a's subtree, or takes another value, or goes; new keys come too.
  type J = unknown
  const mix = (a: J, other: J, choices: number[]): J => {
    const pick = (): number => choices.length === 0 ? 0 : choices.shift()!
    if (typeof a !== 'object' || a === null) return pick() % 3 === 0 ? other : a
    const out: Record<string, J> | J[] = Array.isArray(a) ? [] : {}
    for (const [key, value] of Object.entries(a)) {
      const choice = pick() % 4
      if (choice === 3 && !Array.isArray(a)) continue
      const next = choice === 0 ? value : choice === 1 ? other : mix(value, other, choices)
      if (Array.isArray(out)) out.push(next)
      else Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true })
    }
    if (!Array.isArray(out) && pick() % 2 === 0) out.added = other
    return out
  }
  const object = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'x/y', 'm~n'), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 })
  fc.assert(fc.property(object, fc.jsonValue({ maxDepth: 2 }), fc.array(fc.nat(11), { maxLength: 60 }), (a, other, choices) => {
    const b = mix(a, other, choices) as object
    const frozen = JSON.stringify(a)
    const operations = diff(a, b)
    t.same(operations, jsonPatch.compare(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b))))
    t.same(applyPatch(a, operations), b)
    t.equal(JSON.stringify(a), frozen, 'the original is not changed')
  }), { numRuns: 300 })
})

t.test('the same object, or an array against an object, is diffed like compare does it', async t => {
  const doc = { a: { b: [1, 2] } }
  t.same(diff(doc, doc), [])
  t.same(diff([1, { a: 1 }], { 0: 1 }), jsonPatch.compare([1, { a: 1 }], { 0: 1 }))
  t.same(diff({ a: [1] }, { a: { 0: 1 } }), [{ op: 'replace', path: '/a', value: { 0: 1 } }])
  // JSON.parse makes __proto__ an own key; the diff keeps it one (applying it is refused, as it should be).
  const withProto = JSON.parse('{"__proto__":{"a":1},"b":{"c":1}}') as Record<string, unknown>
  const changed = JSON.parse('{"__proto__":{"a":2},"b":{"c":1}}') as Record<string, unknown>
  changed.b = withProto.b
  t.same(diff(withProto, changed), [{ op: 'replace', path: '/__proto__/a', value: 2 }])
  t.same(diff(withProto, { b: withProto.b }), [{ op: 'remove', path: '/__proto__' }], 'not confused with Object.prototype')
})
