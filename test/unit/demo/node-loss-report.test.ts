import t from 'tap'
import { explainLayout, failureWindow, formatNodeLossTable } from '../../../demo/node-loss-report.js'
import { markedMilestones, secondsAfter } from '../../../demo/node-loss-report.js'
import type { LayoutResult, Milestones } from '../../../demo/node-loss-report.js'
import type { RunEvent, RunSummary } from '../../../demo/summary.js'

type Bucket = { t: number, requests: number, failed: number, statuses: Record<string, number> }
const bucket = (t: number, failed: number): Bucket => ({ t, requests: 20, failed, statuses: {} })

t.test('the failure window: the first and last bucket with a failure from the loss on, in seconds after it', async t => {
  const timeline = [0, 900, 1000, 1500, 1600, 11_900, 12_000].map((t, i) => bucket(t, [1, 0, 0, 2, 0, 5, 0][i]!))
  const report = { bucketMs: 100, timeline }
  t.same(failureWindow(report, 1000), { firstS: 0.5, lastS: 11 }, 'a failure before the loss does not count')
  t.same(failureWindow(report, 20_000), null, 'none after')
  const straddling = { bucketMs: 100, timeline: [bucket(950, 1)] }
  t.same(failureWindow(straddling, 1000), { firstS: 0, lastS: 0.1 }, 'a bucket that straddles the loss counts from 0')
})

t.test('seconds after the loss, from the API server\'s timestamps', async t => {
  const from = Date.parse('2026-01-01T00:00:00.400Z')
  t.equal(secondsAfter(from, '2026-01-01T00:00:12Z'), 12)
  t.equal(secondsAfter(from, '2026-01-01T00:00:00Z'), 0, 'never before the loss (whole seconds)')
  t.equal(secondsAfter(from, undefined), null)
  t.equal(secondsAfter(from, 'soon'), null)
})

const summary = (failed: number, kinds: Partial<RunSummary> = {}): RunSummary => ({
  requests: 1000, failed, '5xx': 0, resets: 0, refused: 0, timeouts: 0, p99Ms: 5, retried: 0, statuses: {}, events: [],
  loadLagMs: null,
  ...kinds
})
const layout = (
  name: string, clusterIP: RunSummary, loadBalancer: RunSummary, milestones: Milestones
): LayoutResult => ({
  layout: name,
  lostNode: 'lameduck-node',
  requests: clusterIP.requests + loadBalancer.requests,
  failed: clusterIP.failed + loadBalancer.failed,
  clusterIP,
  loadBalancer,
  windows: { clusterIP: clusterIP.failed > 0 ? { firstS: 0, lastS: 21.5 } : null, loadBalancer: null },
  milestones
})
const MILESTONES: Milestones = { nodeUnreadyS: 11, endpointsGoneS: 10.6, evictedS: 21, replacedS: 24 }
const NONE: Milestones = { nodeUnreadyS: null, endpointsGoneS: null, evictedS: null, replacedS: null }

t.test('the table: each layout\'s failures per path and when, and the control plane\'s milestones', async t => {
  const one = layout('one replica', summary(300, { timeouts: 100, refused: 200 }), summary(0), MILESTONES)
  const spread = layout('two replicas on two nodes', summary(0), summary(0), NONE)
  const table = formatNodeLossTable([one, spread]).split('\n')
  t.match(table[0], /through the ClusterIP\s+through nginx\s+node unready\s+endpoints gone\s+Pods evicted\s+replaced$/)
  t.match(table[2], /^one replica\s+300 of 1000 \(\+0s to \+21\.5s\)\s+0 of 1000\s+\+11s\s+\+10\.6s\s+\+21s\s+\+24s$/)
  t.match(table[3], /^two replicas on two nodes\s+0 of 1000\s+0 of 1000\s+-\s+-\s+-\s+-$/)
})

t.test('why they failed: timeouts while the silent node\'s Pods stayed endpoints, refusals while none was left', async t => {
  const clusterIP = summary(300, { timeouts: 100, refused: 150, resets: 50 })
  const one = layout('one replica', clusterIP, summary(2, { '5xx': 2 }), MILESTONES)
  t.same(explainLayout(one), [
    'one replica: 102 timed out or got 502/504: sent to the silent node\'s Pods (endpoints until +10.6s, ' +
      'and on connections kept alive to them until the client gave up), or queued behind those',
    'one replica: 200 refused or reset: no ready endpoint left until a replacement was Ready (+24s), made once the Pods were evicted (+21s)'
  ])
  const spread = layout('two replicas on two nodes', summary(0), summary(0), { ...MILESTONES, replacedS: 22 })
  t.same(explainLayout(spread), ['two replicas on two nodes: no request failed'])
})

t.test('when the lost Pods left the EndpointSlice and were evicted, from the run\'s own marks', async t => {
  const events: RunEvent[] = [
    { tMs: 3000, kind: 'sigkill', pod: 'a' }, { tMs: 3000, kind: 'sigkill', pod: 'b' },
    { tMs: 12_900, kind: 'endpoint-not-ready', pod: 'a' }, { tMs: 13_040, kind: 'endpoint-not-ready', pod: 'b' },
    { tMs: 14_000, kind: 'endpoint-not-ready', pod: 'c' }, { tMs: 22_950, kind: 'pod-deleted', pod: 'a' }
  ]
  t.same(markedMilestones(events), { endpointsGoneS: 10, evictedS: null }, 'the last of them; not all evicted yet')
  const evicted = [...events, { tMs: 23_020, kind: 'pod-deleted', pod: 'b' } as const]
  t.same(markedMilestones(evicted), { endpointsGoneS: 10, evictedS: 20 })
  t.same(markedMilestones([]), { endpointsGoneS: null, evictedS: null }, 'no loss marked')
})
