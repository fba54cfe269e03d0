import t from 'tap'
import { parse } from 'yaml'
import { listItems, readDocuments, writeDocument } from '../../../src/common/yaml.js'

// Strings that YAML 1.1 (kubectl's go-yaml v2) reads as booleans, nulls, numbers or timestamps.
const RISKY = ['no', 'yes', 'on', 'off', 'y', 'n', 'Y', 'N', 'NO', 'On', 'Off', 'TRUE', '~', 'null', 'Null', '',
  '017', '0o17', '0b101', '0x1F', '1_000', '1:20', '+12', '-1', '1e3', '1.5', '.5', '+inf', '.inf', '.NaN', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '<<']

t.test('written strings read back as the same strings under YAML 1.1, keys too', async t => {
  const value = { args: RISKY, data: Object.fromEntries(RISKY.filter(s => s !== '').map(s => [s, s])), n: 7, b: true, none: null }
  const text = writeDocument(value)
  t.same(parse(text, { version: '1.1' }), value, 'YAML 1.1 reads it back unchanged')
  t.same(readDocuments(text, 'x')[0]!.value, value, 'and so does our reader')
  t.match(text, /^ {2}- "no"$/m, 'no is quoted')
  t.match(text, /^ {2}- "0o17"$/m, 'Go integer syntax is quoted')
  t.notMatch(text, /%YAML/, 'no directive: kubectl needs none')
})

t.test('ordinary strings stay plain; long ones are not folded', async t => {
  const long = `${'x'.repeat(120)} y`
  const text = writeDocument({ cpu: '100m', memory: '128Mi', version: '1.2.3', image: 'nginx:1.27', long })
  t.equal(text, `cpu: 100m\nmemory: 128Mi\nversion: 1.2.3\nimage: nginx:1.27\nlong: ${long}\n`)
})

t.test('the reader follows YAML 1.1 as kubectl does, but keeps timestamps as text', async t => {
  const docs = readDocuments('a: [no, on, 017, 2024-01-01]\nbase: &b { c: 1 }\nd:\n  <<: *b\n---\n---\n# comment\n---\n[1]\n', 'f.yaml')
  t.same(docs, [
    { value: { a: [false, true, 15, '2024-01-01'], base: { c: 1 }, d: { c: 1 } }, where: 'f.yaml: document 1' },
    { value: [1], where: 'f.yaml: document 4' }
  ], 'empty documents skipped, each named by its place')
})

t.test('errors name the source, the document and the first line of the problem', async t => {
  t.throws(() => readDocuments('a: 1\n---\nb: [\n', 's'), /^s: document 2: Flow sequence in block collection must be sufficiently indented and end with a \] at line 4, column 1$/)
  t.throws(() => readDocuments('a: *nothing\n', 's'), /^s: document 1: Unresolved alias/)
})

t.test('a List opens into its items; anything else stays as it is', async t => {
  const list = { value: { kind: 'PodList', items: [{ kind: 'Pod' }, 7] }, where: 'f: document 1' }
  t.same(listItems(list), [{ value: { kind: 'Pod' }, where: 'f: document 1, item 1' }, { value: 7, where: 'f: document 1, item 2' }])
  for (const value of [{ kind: 'Pod' }, [1], 'text', { kind: 3 }]) t.same(listItems({ value, where: 'w' }), [{ value, where: 'w' }])
  t.throws(() => listItems({ value: { kind: 'List', items: 3 }, where: 'w' }), /^w: a List without an items list$/)
})
