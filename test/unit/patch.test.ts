import t from 'tap'
import { applyPatch, diff, encodePatch } from '../../src/patch.js'

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
