import t from 'tap'
import { formatTable } from '../../../demo/table.js'
import type { RunSummary } from '../../../demo/summary.js'

function summary (over: Partial<RunSummary>): RunSummary {
  return { requests: 1000, failed: 0, '5xx': 0, resets: 0, refused: 0, timeouts: 0, p99Ms: 12.345, retried: 0, statuses: {}, events: [], ...over }
}

t.test('the runs side by side, numbers right-aligned under their run and path', async t => {
  const table = formatTable([
    { title: ['without lameduck', 'ClusterIP'], summary: summary({ requests: 1716, failed: 356, '5xx': 350, resets: 6, refused: 1, timeouts: 2, p99Ms: 222.24 }) },
    { title: ['with lameduck', 'ClusterIP'], summary: summary({ requests: 1882 }) }
  ])
  const lines = table.trimEnd().split('\n')
  t.match(lines[0], /^\s+without lameduck {3}with lameduck$/)
  t.match(lines[1], /^\s+ClusterIP {3,}ClusterIP$/, "right-aligned under the first line")
  t.match(lines[2], /^-+$/)
  t.equal(lines[2]!.length, lines[0]!.length, 'the rule is as wide as the header')
  const row = (name: string): string[] => lines.find(line => line.startsWith(name))!.slice(name.length).trim().split(/ {3,}/)
  t.same(row('requests'), ['1716', '1882'])
  t.same(row('failed'), ['356 (20.75%)', '0 (0.00%)'])
  t.same(row('  5xx'), ['350', '0'])
  t.same(row('  resets'), ['6', '0'])
  t.same(row('  refused, timeouts'), ['1, 2', '0, 0'])
  t.same(row('p99 latency'), ['222.24ms', '12.35ms'])
  t.ok(lines.slice(3).every(line => line.length === lines[0]!.length), 'every row ends under the last column')
  t.notMatch(table, /retried/, 'no retries row when nginx retried nothing')
  t.ok(table.endsWith('\n'))
})

t.test('the retries row shows what nginx hid, and an empty run reads "-"', async t => {
  const table = formatTable([{ title: ['a', 'b'], summary: summary({ retried: 212 }) }, { title: ['c', 'd'], summary: summary({ requests: 0, retried: 0 }) }])
  t.match(table, /^retried by nginx\s+212\s+0$/m)
  t.match(table, /^failed\s+0 \(0\.00%\)\s+0 \(-\)$/m)
})
