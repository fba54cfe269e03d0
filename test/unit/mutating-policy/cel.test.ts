import t from 'tap'
import { concat, formatDuration, fromSample, jsonToCel, max, min, str, strList, text, trim } from '../../../src/mutating-policy/cel.js'

const holes = { marker: '987', hole: 'string(variables.sleep)', markerNumber: 987, numberHole: 'variables.sleep' }

t.test('string literals escape what CEL would read otherwise', async t => {
  t.equal(str('a"b\\c\nd'), '"a\\"b\\\\c\\nd"')
  t.equal(str('\u0085'), '"\u0085"', 'printable non-ASCII stays as it is')
  t.equal(strList(['nginx', 'openresty']), '["nginx", "openresty"]')
})

t.test('trim cuts what JavaScript\'s trim cuts, by a regex over RE2 classes', async t => {
  const expression = trim('x')
  t.match(expression, /^x\.find\("\(\?s\)\[\^/)
  for (const space of ['\\t', '\\n', '\\v', '\\f', '\\r', ' ', '\\x{A0}', '\\x{FEFF}', '\\x{2028}', '\\x{3000}']) {
    t.ok(expression.includes(space), `strips ${space}`)
  }
  t.notOk(expression.includes('\\x{85}'), 'keeps U+0085, as JavaScript does (Go would strip it)')
})

t.test('min, max and formatDuration are ternaries', async t => {
  t.equal(min('a', '3'), '(a < 3 ? a : 3)')
  t.equal(max('a', '3'), '(a > 3 ? a : 3)')
  t.equal(formatDuration('s'), "(s == 0 ? '0s' : (s >= 3600 ? string(s / 3600) + 'h' : '') + (s % 3600 >= 60 ? string(s % 3600 / 60) + 'm' : '') + (s % 60 > 0 ? string(s % 60) + 's' : ''))")
})

t.test('templates become concatenations', async t => {
  t.equal(concat(['a', 'b'], ['x']), '"a" + x + "b"')
  t.equal(concat(['', ''], ['x']), 'x', 'empty parts are left out')
  t.equal(concat([''], []), "''")
  t.equal(text`container "${'c.name'}" kept`, '"container \\"" + c.name + "\\" kept"')
  t.equal(fromSample('sleep 987; sleep 987', '987', 'h'), '"sleep " + h + "; sleep " + h')
})

t.test('JSON becomes a CEL literal, with the marker replaced', async t => {
  t.equal(jsonToCel({ sleep: { seconds: 987 } }, holes), '{"sleep": {"seconds": variables.sleep}}')
  t.equal(jsonToCel({ exec: { command: ['sleep', '987'] } }, holes), '{"exec": {"command": ["sleep", string(variables.sleep)]}}')
  t.equal(jsonToCel([1, 'a'], holes), '[1, "a"]')
  t.throws(() => jsonToCel({ a: true }, holes), /cannot write true as CEL/)
  t.throws(() => jsonToCel(null, holes), /cannot write null as CEL/)
})
