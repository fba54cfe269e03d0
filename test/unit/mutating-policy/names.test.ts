import t from 'tap'
import { agree, containersNamed, quoteNames } from '../../../src/mutating-policy/names.js'

t.test('quoteNames cuts the list where names.ts does (80 characters), the first name always shown', async t => {
  const cel = quoteNames('l')
  t.match(cel, /transformList\(i, q, i == 0 \|\| size\(l\.map\(n, '"' \+ n \+ '"'\)\.slice\(0, i \+ 1\)\.join\(', '\)\) <= 80, q\)/)
  t.match(cel, /', … and ' \+ string\(size\(l\) - size\(/, 'the rest counted')
  t.match(cel, / \+ ' and ' \+ l\.map\(n, '"' \+ n \+ '"'\)\[size\(l\) - 1\]\)$/, 'the last joined by "and"')
})

t.test('containersNamed and agree follow the number of names', async t => {
  t.match(containersNamed('l'), /^\(size\(l\) == 1 \? 'container ' : 'containers '\) \+ /)
  t.equal(agree('l', 'runs', 'run'), '(size(l) == 1 ? "runs" : "run")')
})
