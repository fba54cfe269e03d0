import t from 'tap'
import { parse } from 'yaml'
import { allowedAliasRatio, listItems, readDocuments, writeDocument } from '../../../src/common/yaml.js'

// Strings that YAML 1.1 (kubectl's go-yaml v2) reads as booleans, nulls, numbers or timestamps.
const RISKY = ['no', 'yes', 'on', 'off', 'y', 'n', 'Y', 'N', 'NO', 'On', 'Off', 'TRUE', '~', 'null', 'Null', '',
  '017', '0o17', '0b101', '0x1F', '1_000', '1:20', '+12', '-1', '1e3', '1.5', '.5', '+inf', '.inf', '.NaN', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '<<']

t.test('written strings read back as the same strings under YAML 1.1, keys too', async t => {
  const value = { args: RISKY, data: Object.fromEntries(RISKY.filter(s => s !== '').map(s => [s, s])), n: 7, b: true, none: null }
  const text = writeDocument(value)
  t.strictSame(parse(text, { version: '1.1' }), value, 'YAML 1.1 reads it back unchanged')
  t.strictSame(readDocuments(text, 'x')[0]!.value, value, 'and so does our reader')
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
  t.strictSame(docs, [
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
  t.strictSame(listItems(list), [{ value: { kind: 'Pod' }, where: 'f: document 1, item 1' }, { value: 7, where: 'f: document 1, item 2' }])
  for (const value of [{ kind: 'Pod' }, [1], 'text', { kind: 3 }]) t.strictSame(listItems({ value, where: 'w' }), [{ value, where: 'w' }])
  t.throws(() => listItems({ value: { kind: 'List', items: 3 }, where: 'w' }), /^w: a List without an items list$/)
})

t.test('kubectl\'s reading: no base-60, no `.` as NaN, Go\'s octal and hex, 64-bit integers', async t => {
  const [doc] = readDocuments('v: [02:30, 1:20:30, ., 0o17, 0x1F, 017, 9007199254740993, 18446744073709551615]\n', 'f')
  t.strictSame(doc!.value, { v: ['02:30', '1:20:30', '.', 15, 31, 15, 9007199254740993n, 18446744073709551615n] })
  const written = ['v:', '  - "02:30"', '  - "1:20:30"', '  - "."', '  - 15', '  - 31', '  - 15',
    '  - 9007199254740993', '  - 18446744073709551615', ''].join('\n')
  t.equal(writeDocument(doc!.value), written, 'written back with every digit (quoted where YAML 1.1 readers differ)')
})

t.test('keys become strings as kubectl makes them; a key given twice keeps its last value, and is told', async t => {
  const warnings: string[] = []
  const text = 'data:\n  y: a\n  017: b\n  1.5: c\n  x: 1\n  x: 2\nlabels: {"1": a, 1: b}\n'
  const [doc] = readDocuments(text, 'f', w => { warnings.push(w) })
  t.strictSame(doc!.value, { data: { true: 'a', 15: 'b', 1.5: 'c', x: 2 }, labels: { 1: 'b' } })
  t.strictSame(warnings, [
    'f: document 1: data: key "x" is given twice: the last value is used, as kubectl does',
    'f: document 1: labels: key "1" is given twice ("1" and 1): the last value is used here; kubectl may use either'
  ])
  const proto = JSON.parse('{"__proto__": {"polluted": true}}') as unknown
  t.strictSame(readDocuments('__proto__: {polluted: true}\n', 'f')[0]!.value, proto, 'data, not a prototype')
})

t.test('a merge (<<) as go-yaml does it: over the keys before, under the ones after; the first map wins', async t => {
  const text = 'a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  p: 0\n  <<: [*a, *b]\n  r: 3\n"<<": plain\n'
  const [doc] = readDocuments(text, 'f')
  t.strictSame(doc!.value, { a: { p: 1, q: 1 }, b: { q: 2, r: 2 }, c: { p: 1, q: 1, r: 3 }, '<<': 'plain' })
  t.throws(() => readDocuments('a: &a [1]\nb:\n  <<: *a\n', 'f'), /^f: document 1: b: a merge \(<<\) takes a map/)
})

t.test('tags: !!str keeps the text, !!int and !!float read it, a wrong one is an error as in kubectl', async t => {
  const text = 'a: !!str 017\nb: !!int "017"\nc: !!float 1\nd: !custom yes\ne: ! 017\n'
  t.strictSame(readDocuments(text, 'f')[0]!.value, { a: '017', b: 15, c: 1, d: 'yes', e: '017' })
  t.throws(() => readDocuments('a: !!int web\n', 'f'), /^f: document 1: a: cannot read "web" as !!int$/)
})

/** A "billion laughs": each of 10 lists names the one before it 10 times. */
const letter = (i: number): string => String.fromCharCode(97 + i)
const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 9 }, (_, i) => `${letter(i + 1)}: &${letter(i + 1)} [${Array(10).fill(`*${letter(i)}`)}]`),
  ''].join('\n')

t.test('what kubectl refuses is refused, naming where', async t => {
  const cases: Array<[string, RegExp]> = [
    ['spec:\n  v: .inf\n', /^f: document 1: spec\.v: \.inf is no number JSON can hold/],
    ['a: [.nan]\n', /^f: document 1: a\[0\]: \.nan is no number/],
    ['~: x\n', /^f: document 1: a null map key/],
    ['18446744073709551615: x\n', /^f: document 1: map key 18446744073709551615 is past 64-bit integers/],
    ['? [a]\n: x\n', /^f: document 1: : a map or list as a map key/],
    ['a: &a [*a]\n', /^f: document 1: \*a contains itself|Unresolved alias/],
    [laughs, /too many alias expansions/]
  ]
  for (const [text, message] of cases) t.throws(() => readDocuments(text, 'f'), message, text.slice(0, 40))
  t.strictSame(readDocuments('"~": x\n', 'f')[0]!.value, { '~': 'x' }, 'quoted: a string key')
})

t.test('the odd corners: alias keys, inline merges, top-level findings, no listener for warnings', async t => {
  const warnings: string[] = []
  const text = 'k: &k name\n*k : 1\nm:\n  <<: {p: 1}\nname: 2\nname: 3\n'
  const [doc] = readDocuments(text, 'f', w => { warnings.push(w) })
  t.strictSame(doc!.value, { k: 'name', name: 3, m: { p: 1 } })
  t.strictSame(warnings, [
    'f: document 1: key "name" is given twice (*k and name): the last value is used here; kubectl may use either',
    'f: document 1: key "name" is given twice: the last value is used, as kubectl does'
  ], 'at the top level, no path')
  t.strictSame(readDocuments('a: 1\na: 2\n', 'f')[0]!.value, { a: 2 }, 'told to nobody')
  t.strictSame(readDocuments('? k\n', 'f')[0]!.value, { k: null }, 'a key without a value')
  t.throws(() => readDocuments('.inf\n', 'f'), /^f: document 1: \.inf is no number/)
  t.throws(() => readDocuments('<<: [1]\n', 'f'), /^f: document 1: a merge \(<<\) takes a map or a list of maps$/)
  t.throws(() => readDocuments('*nothing : 1\n', 'f'), /^f: document 1: Unresolved alias \*nothing$/)
  const ratios = [0, 400_000, 2_200_000, 4_000_000].map(n => allowedAliasRatio(n).toFixed(3))
  t.strictSame(ratios, ['0.990', '0.990', '0.545', '0.100'], 'go-yaml\'s allowance')
})
