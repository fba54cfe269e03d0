import t from 'tap'
import { escapeXml, fixed, legend, tickStep, timeTicks } from '../../../src/common/svg.js'

t.test('escapeXml: the five characters that break an element or an attribute', async t => {
  t.equal(escapeXml('a & b <c> "d"'), 'a &amp; b &lt;c&gt; &quot;d&quot;')
  t.equal(escapeXml('&amp;'), '&amp;amp;', 'escaped once more, as text')
})

t.test('fixed: a tenth of a pixel', async t => {
  t.equal(fixed(12.345), '12.3')
  t.equal(fixed(12.35), '12.4')
  t.equal(fixed(7), '7')
})

t.test('tickStep: the smallest round step with at most 12 ticks', async t => {
  t.same([5, 12, 13, 60, 61, 700, 721, 5000].map(tickStep), [1, 1, 2, 5, 10, 60, 120, 120])
})

t.test('timeTicks: a label every step from 0 through the end, on the given line', async t => {
  const ticks = timeTicks(2500, ms => 100 + ms / 10, 50)
  t.same(ticks, [0, 1, 2].map(s => `<text x="${100 + s * 100}" y="50" text-anchor="middle" font-size="11">${s}s</text>`))
  t.equal(timeTicks(30_000, ms => ms, 0).length, 7, 'a 5 s step over 30 s: 0, 5, … 30')
})

t.test('legend: entries side by side, each after the previous label', async t => {
  const entries = legend([['#111', 'ok'], ['#222', 'failed']], 20, 30)
  t.equal(entries[0], '<rect x="20" y="30" width="12" height="12" fill="#111"/><text x="36" y="41" font-size="12">ok</text>')
  t.equal(entries[1], '<rect x="63" y="30" width="12" height="12" fill="#222"/><text x="79" y="41" font-size="12">failed</text>', '20 + 16 + 2 × 6.5 + 14')
  t.same(legend([], 0, 0), [])
})
