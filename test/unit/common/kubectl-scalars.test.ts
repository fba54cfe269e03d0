// Plain scalars and map keys as kubectl reads them; each row was checked against kubectl 1.37.2 (and
// test/e2e/preview-kubectl.test.ts checks generated ones against the real kubectl binary on each run).
import t from 'tap'
import { formatFloat, jsonValue, keyString, readsAsString, resolvePlain } from '../../../src/common/kubectl-scalars.js'

const value = (text: string): unknown => jsonValue(resolvePlain(text))

t.test('values: YAML 1.1 names, Go integers, YAML floats; no base-60, `.` and timestamps are strings', async t => {
  const cases: Array<[string, unknown]> = [
    ['017', 15], ['0o17', 15], ['0x1F', 31], ['0b1', 1], ['0B1', 1], ['1_000', 1000], ['1__0', 10], ['0_1', 1],
    ['0x_1', 1],
    ['+0x10', 16], ['-0o7', -7], ['+12', 12], ['-0', 0], ['0', 0], ['00', 0], ['08', 8], ['09.5', 9.5], ['1_', 1],
    ['1e3', 1000], ['1E3', 1000], ['.5', 0.5], ['+.5', 0.5], ['-.5', -0.5], ['.5e3', 500], ['0.', 0], ['1.0', 1],
    ['12345678901234567890123', 1.2345678901234568e22], ['1e400', '1e400'], ['1e-400', 0],
    ['02:30', '02:30'], ['1:20:30', '1:20:30'], ['.', '.'], ['.e3', '.e3'], ['._5', '._5'], ['.inF', '.inF'],
    ['.5_6e1', 5.6], ['.1_2_3', 0.123], ['.5E+1_0', 5e9], ['.5_e1', '.5_e1'], ['.5__6', '.5__6'], ['.5_', '.5_'],
    ['.5e_1', '.5e_1'], ['.5e1__0', '.5e1__0'],
    ['y', true], ['Y', true], ['yes', true], ['on', true], ['ON', true], ['True', true],
    ['n', false], ['NO', false], ['off', false], ['False', false], ['nO', 'nO'], ['yES', 'yES'],
    ['~', null], ['null', null], ['NULL', null], ['', null], ['nULL', 'nULL'],
    ['2001-12-14', '2001-12-14'], ['2001-12-14t21:59:43.10-05:00', '2001-12-14t21:59:43.10-05:00'],
    ['0x1p-2', '0x1p-2'], ['inf', 'inf'], ['+inf', '+inf'], ['nan', 'nan'], ['0x', '0x'], ['-', '-'], ['+', '+'],
    ['<<', '<<'], ['100m', '100m'], ['1.2.3', '1.2.3'], ['_1', '_1'], ['web', 'web']
  ]
  for (const [text, expected] of cases) t.strictSame(value(text), expected, text)
})

t.test('integers keep 64 bits: past 2^53 a BigInt, exact; past int64, uint64; past that, a float', async t => {
  t.equal(value('9007199254740993'), 9007199254740993n)
  t.equal(value('9007199254740991'), 9007199254740991, 'a number while it is exact')
  t.equal(value('-9223372036854775808'), -9223372036854775808n, 'int64\'s least')
  t.equal(value('18446744073709551615'), 18446744073709551615n, 'uint64\'s most')
  t.equal(value('-9223372036854775809'), Number(-9223372036854775809n), 'past int64 with a sign: a float')
  t.equal(value('+18446744073709551615'), Number(18446744073709551615n), 'ParseUint takes no sign: a float')
  t.equal(value('0xFFFFFFFFFFFFFFFF'), 18446744073709551615n)
  t.equal(value('0x10000000000000000'), '0x10000000000000000', 'past uint64 and not decimal: a string')
})

t.test('what JSON cannot hold is refused, as kubectl refuses it', async t => {
  for (const text of ['.inf', '+.Inf', '-.INF', '.nan', '.NaN']) {
    t.throws(() => value(text), /is no number JSON can hold; kubectl refuses it too/, text)
  }
})

t.test('map keys: the strings sigs.k8s.io/yaml makes of them', async t => {
  const key = (text: string): string => keyString(resolvePlain(text))
  const texts = ['y', 'off', '017', '0x1F', '1e3', '1.5', '08', '0.1', '3.14159265358979', '1e6', '123456']
  t.strictSame(texts.map(key), ['true', 'false', '15', '31', '1000', '1.5', '8', '0.1', '3.1415927', '1e+06', '123456'])
  t.equal(key('0.00001'), '1e-05')
  t.equal(key('-2.5e-7'), '-2.5e-07')
  t.strictSame(['.inf', '-.inf', '.nan', '-0.0', '0.0', '1e39'].map(key), ['.inf', '-.inf', '.nan', '-0', '0', '.inf'])
  t.equal(key('9223372036854775807'), '9223372036854775807')
  t.throws(() => key('~'), /a null map key/)
  t.throws(() => key('18446744073709551615'), /past 64-bit integers/)
})

t.test('formatFloat: Go\'s %g of a float32, shortest digits', async t => {
  t.strictSame([0.0001, 0.00012, 100000, 999999, 1000000, 1.5e10, -3, 16777217].map(formatFloat),
    ['0.0001', '0.00012', '100000', '999999', '1e+06', '1.5e+10', '-3', '1.6777216e+07'])
})

t.test('a string written plain reads back as itself, or it must be quoted', async t => {
  for (const text of ['web', '100m', '1.2.3', '02:30', '.', 'nO', 'inf']) t.ok(readsAsString(text), text)
  for (const text of ['no', 'y', '017', '1_000', '0o17', '~', '', '1e3', '.5']) t.notOk(readsAsString(text), text)
})
