import t from 'tap'
import { formatScenarioTable, formatTable } from '../../../demo/table.js'
import type { RunSummary } from '../../../demo/summary.js'

function summary (over: Partial<RunSummary>): RunSummary {
  return {
    requests: 1000, failed: 0, '5xx': 0, resets: 0, refused: 0, timeouts: 0, p99Ms: 12.345, retried: 0,
    statuses: {}, events: [], loadLagMs: 3.5, ...over
  }
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
  t.notMatch(table, /behind/, 'no lag row when no load fell behind')
  t.ok(table.endsWith('\n'))
})

t.test('the retries row shows what nginx hid, and an empty run reads "-"', async t => {
  const table = formatTable([{ title: ['a', 'b'], summary: summary({ retried: 212 }) }, { title: ['c', 'd'], summary: summary({ requests: 0, retried: 0 }) }])
  t.match(table, /^retried by nginx\s+212\s+0$/m)
  t.match(table, /^failed\s+0 \(0\.00%\)\s+0 \(-\)$/m)
})

t.test('the slow row shows only when a run had slow requests, and how many of them were cut', async t => {
  const table = formatTable([{ title: ['a', 'b'], summary: summary({ slow: { requests: 40, failed: 9 } }) }, { title: ['c', 'd'], summary: summary({}) }])
  t.match(table, /^ {2}slow requests cut\s+9 of 40\s+-$/m)
  t.notMatch(formatTable([{ title: ['a', 'b'], summary: summary({}) }]), /slow/)
})

t.test('the scenarios side by side: failed of requests on each path, without and with lameduck', async t => {
  const run = (
    clusterIP: Partial<RunSummary>,
    loadBalancer: Partial<RunSummary>
  ): { clusterIP: RunSummary, loadBalancer: RunSummary } => ({
    clusterIP: summary(clusterIP),
    loadBalancer: summary(loadBalancer)
  })
  const table = formatScenarioTable([
    { title: 'scale-in to 1', result: { without: run({ failed: 12 }, { failed: 80 }), with: run({}, {}) } },
    { title: 'nginx rollout', result: { without: run({ failed: 3, slow: { requests: 20, failed: 3 } }, {}), with: run({ slow: { requests: 20, failed: 0 } }, {}) } }
  ])
  const lines = table.trimEnd().split('\n')
  t.match(lines[0], /^\s+without lameduck\s+without lameduck\s+with lameduck\s+with lameduck$/)
  t.match(lines[1], /^\s+through the ClusterIP\s+through nginx\s+through the ClusterIP\s+through nginx$/)
  t.same(lines[3]!.split(/ {3,}/), ['scale-in to 1', '12 of 1000', '80 of 1000', '0 of 1000', '0 of 1000'])
  t.same(lines[4]!.split(/ {3,}/), ['nginx rollout', '3 of 1000 (3 of 20 slow)', '0 of 1000', '0 of 1000 (0 of 20 slow)', '0 of 1000'])
})

t.test('a load that fell behind: its lag in a row of its own, and no verdict instead of its failures', async t => {
  const lagging = summary({ failed: 812, loadLagMs: 41_234, noVerdict: 'the load generator fell behind …' })
  const unknown = summary({ loadLagMs: null })
  const table = formatTable([{ title: ['a', 'b'], summary: lagging }, { title: ['c', 'd'], summary: unknown }])
  t.match(table, /^failed\s+no verdict \(812\)\s+0 \(0\.00%\)$/m)
  t.match(table, /^load behind schedule\s+41\.234s\s+-$/m)
  const behind = formatTable([{ title: ['a', 'b'], summary: summary({ loadLagMs: 150 }) }])
  t.match(behind, /^load behind schedule\s+150\.00ms$/m, 'shown from 100 ms on, a verdict still')
  const run = { clusterIP: lagging, loadBalancer: summary({}) }
  const side = formatScenarioTable([{ title: 'rollout restart', result: { without: run, with: run } }])
  const cell = 'no verdict \\(load 41\\.234s behind\\)'
  t.match(side, new RegExp(`^rollout restart\\s+${cell}\\s+0 of 1000\\s+${cell}\\s+0 of 1000$`, 'm'))
})
