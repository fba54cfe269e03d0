import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { parseScenarios, SCENARIO_ACTIONS, SCENARIO_TITLES, scenarioLoadSeconds, SCENARIOS, slowRequest } from '../../../demo/scenarios.js'
import { DEMO_NODE_LIFECYCLE, NODE_LOSS_LAYOUTS, nodeLossLoadSeconds, nodesFor } from '../../../demo/scenarios.js'

t.test('--scenario: one name, a list in the order given, or all in the usual order', async t => {
  t.same(parseScenarios('rollout'), ['rollout'])
  t.same(parseScenarios('evict, scale-in'), ['evict', 'scale-in'])
  t.same(parseScenarios('all'), ['rollout', 'scale-in', 'evict', 'nginx', 'adaptive', 'drain', 'node-loss'])
  t.same(parseScenarios('all'), [...SCENARIOS])
  for (const scenario of SCENARIOS) {
    t.ok(SCENARIO_TITLES[scenario].length > 0, `${scenario} has a title`)
    t.ok(SCENARIO_ACTIONS[scenario].length > 0, `${scenario} says what it does`)
  }
})

t.test('a bad --scenario is a ConfigError naming it and the good ones', async t => {
  t.throws(() => parseScenarios('reboot'), new ConfigError('--scenario: "reboot" is not one of rollout, scale-in, evict, nginx, adaptive, drain, node-loss or all'))
  t.throws(() => parseScenarios(''), /"" is not one of/)
  t.throws(() => parseScenarios('all,nginx'), /"all" is not one of/, 'all only alone')
  t.throws(() => parseScenarios('nginx,nginx'), new ConfigError('--scenario: nginx is named twice'))
})

t.test('the load outlasts the disruption: a new Pod per replica where they are replaced, and the last stop', async t => {
  t.equal(scenarioLoadSeconds('rollout', 3, 8), 6 + 18 + 8 + 6)
  t.equal(scenarioLoadSeconds('evict', 2, 8), 6 + 12 + 8 + 6)
  t.equal(scenarioLoadSeconds('nginx', 2, 20), 6 + 12 + 20 + 6)
  t.equal(scenarioLoadSeconds('scale-in', 5, 8), 6 + 8 + 6, 'a scale-in starts no new Pod')
  t.equal(scenarioLoadSeconds('drain', 3, 8), 6 + 3 * (6 + 5) + 8 + 6, 'kubectl drain tries a refused eviction again after 5 s')
})

t.test('one node unless a scenario needs somewhere for the Pods to go', async t => {
  t.equal(nodesFor(['rollout', 'scale-in', 'evict', 'nginx']), 1)
  t.equal(nodesFor(['rollout', 'drain']), 2)
  t.equal(nodesFor(['node-loss']), 2)
})

t.test('a node lost: three layouts, and a load that lasts until the Pods are replaced', async t => {
  const layouts = NODE_LOSS_LAYOUTS.map(l => [l.replicas, l.onLostNode])
  t.same(layouts, [[1, 1], [2, 2], [2, 1]], 'one replica, two on the lost node, two spread')
  t.equal(nodeLossLoadSeconds({ graceSeconds: 10, tolerationSeconds: 10 }), 6 + 10 + 10 + 6 + 6)
  const { graceSeconds, tolerationSeconds } = DEMO_NODE_LIFECYCLE
  t.ok(graceSeconds < 50 && tolerationSeconds < 300, 'shorter than Kubernetes\' defaults, for a demo')
})

t.test('slow requests outlast the pause, and the budget covers one started as the load balancer let go', async t => {
  const { ms, budgetSeconds } = slowRequest(5)
  t.ok(ms > 5000, 'still in flight when the pause ends')
  // The latest a slow request reaches a Pod is when the balancer stops routing to it, before the pause ends.
  t.ok(5 + budgetSeconds > 5 + ms / 1000, 'the grace period (pause + budget) covers a slow request started at the end of the pause')
  t.same(slowRequest(3), { ms: 6000, budgetSeconds: 9 })
})
