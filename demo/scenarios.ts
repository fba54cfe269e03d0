/**
 * The ways the demo stops serving Pods, each a scenario run without and with lameduck: a rolling
 * update, a scale-in (what an HPA does), evictions one at a time through the Eviction API (what a
 * drain or a consolidating autoscaler does), a rolling update of Pods that run nginx (where
 * SIGTERM is a fast shutdown and only SIGQUIT finishes what is in flight), two rollouts where the
 * adaptive pause meets a fixed sleep, and a real `kubectl drain` of the node holding the Pods. Then
 * a node lost at once, where no pause can help, in three layouts of the Pods (node-loss.ts). Pure.
 */
import { ConfigError } from '../src/common/flags.js'
import type { NodeLifecycle } from '../control-plane/node/config.js'

/** Every scenario, in the order `all` runs them. */
export const SCENARIOS = ['rollout', 'scale-in', 'evict', 'nginx', 'adaptive', 'drain', 'node-loss'] as const
export type Scenario = typeof SCENARIOS[number]

/** The scenarios that need a second node: somewhere for the Pods to go. */
const TWO_NODES: ReadonlySet<Scenario> = new Set(['drain', 'node-loss'])

/** How many nodes a run of `scenarios` needs: one unless a scenario needs more. */
export function nodesFor (scenarios: readonly Scenario[]): number {
  return scenarios.some(scenario => TWO_NODES.has(scenario)) ? 2 : 1
}

/**
 * How fast the demo's control plane gives up on a lost node: 10 s without a Lease renewal marks it
 * unready (Kubernetes' default --node-monitor-grace-period is 50 s), and its Pods are evicted 10 s
 * later (the default tolerations of the unreachable taint are 300 s). docs/demo.md says what the
 * defaults give.
 */
export const DEMO_NODE_LIFECYCLE: NodeLifecycle = Object.freeze({ graceSeconds: 10, tolerationSeconds: 10 })

/** The node-loss scenario's layouts: how many replicas, and how many of them on the node that is lost. */
export const NODE_LOSS_LAYOUTS = [
  { id: 'one-replica', title: 'one replica', replicas: 1, onLostNode: 1 },
  { id: 'two-on-one-node', title: 'two replicas on one node', replicas: 2, onLostNode: 2 },
  { id: 'two-spread', title: 'two replicas on two nodes', replicas: 2, onLostNode: 1 }
] as const
export type NodeLossLayout = typeof NODE_LOSS_LAYOUTS[number]

/** How each reads in the progress lines and the tables. */
export const SCENARIO_TITLES: Readonly<Record<Scenario, string>> = {
  rollout: 'rollout restart',
  'scale-in': 'scale-in to 1',
  evict: 'evictions (policy/v1)',
  nginx: 'nginx rollout',
  adaptive: 'adaptive pause',
  drain: 'kubectl drain',
  'node-loss': 'a node lost'
}

/** What each does to the Deployment `web`, for the progress lines. */
export const SCENARIO_ACTIONS: Readonly<Record<Scenario, string>> = {
  rollout: 'kubectl rollout restart',
  'scale-in': 'kubectl scale --replicas=1 (as an HPA scaling in)',
  evict: 'the Eviction API, one Pod at a time, the PodDisruptionBudget honoured (as a drain or a consolidating autoscaler)',
  nginx: 'kubectl rollout restart of Pods running nginx, with slow requests in flight',
  adaptive: 'kubectl rollout restart twice, nginx following the EndpointSlices 2 s and then 12 s late: the adaptive pause against a fixed sleep sized for the slow case',
  drain: 'kubectl drain of the node holding the Pods, a PodDisruptionBudget honoured, the Pods rescheduled on the other node (as a node upgrade or a consolidating autoscaler)',
  'node-loss': 'a node stopped hard, as a terminated instance: its kubelet, containerd and every process of its Pods killed at once, its network silent; no preStop runs'
}

/**
 * The adaptive scenario's two runs: how late nginx follows the EndpointSlices in each. The Pods
 * with lameduck ask for the adaptive handler with the same annotations in both; those without have
 * the fixed sleep people write by hand for the slow case.
 */
export const ADAPTIVE_SPEEDS = { fast: 2, slow: 12 } as const
export type Speed = keyof typeof ADAPTIVE_SPEEDS
/** Their annotations: the shortest pause, the quiet period, the longest. */
export const ADAPTIVE_SETTINGS = { min: 1, quiet: 3, max: 60 } as const

/**
 * `--scenario`: one name, a comma-separated list, or `all`; each at most once, in the order given
 * (`all` in the order of SCENARIOS). Throws ConfigError naming the bad name and the good ones.
 */
export function parseScenarios (text: string): Scenario[] {
  const names = text.split(',').map(name => name.trim())
  if (names.length === 1 && names[0] === 'all') return [...SCENARIOS]
  const chosen: Scenario[] = []
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new ConfigError(`--scenario: ${JSON.stringify(name)} is not one of ${SCENARIOS.join(', ')} or all`)
    if (chosen.includes(name as Scenario)) throw new ConfigError(`--scenario: ${name} is named twice`)
    chosen.push(name as Scenario)
  }
  return chosen
}

/** Load before the disruption, and after the last Pod is gone. */
const WARMUP_SECONDS = 6
const TAIL_SECONDS = 6
/** About how long a new Pod takes to start and turn Ready on the demo's node. */
const NEW_POD_SECONDS = 6
/** kubectl drain tries an eviction the PodDisruptionBudget refused again after 5 s. */
const DRAIN_RETRY_SECONDS = 5

/**
 * How long the load runs in `scenario`: the warm-up, the new Pods the disruption waits for (a
 * rollout or an eviction replaces each replica in turn, a drain with kubectl's retry after each
 * refused eviction; a scale-in replaces none), the last old Pod's pause and drain (`stopSeconds`),
 * and a tail.
 */
export function scenarioLoadSeconds (scenario: Scenario, replicas: number, stopSeconds: number): number {
  const replaced = scenario === 'scale-in' ? 0 : replicas
  const perPod = NEW_POD_SECONDS + (scenario === 'drain' ? DRAIN_RETRY_SECONDS : 0)
  return WARMUP_SECONDS + replaced * perPod + stopSeconds + TAIL_SECONDS
}

/**
 * How long the load runs in a node-loss layout: the warm-up, the grace period before the node is
 * marked unready, the tolerations before its Pods are evicted and replaced, a new Pod, and a tail.
 */
export function nodeLossLoadSeconds (lifecycle: NodeLifecycle): number {
  return WARMUP_SECONDS + lifecycle.graceSeconds + lifecycle.tolerationSeconds + NEW_POD_SECONDS + TAIL_SECONDS
}

/**
 * The nginx scenario's slow requests: long enough to outlast the pause of the hook (so that they are
 * still in flight when the Pod gets its signal), each `ms` long; nginx's shutdown budget must cover
 * one started just before the load balancer stopped routing to it (`sleepSeconds` after deletion at
 * most), plus a margin.
 */
export function slowRequest (sleepSeconds: number): { ms: number, budgetSeconds: number } {
  const ms = (sleepSeconds + 3) * 1000
  return { ms, budgetSeconds: ms / 1000 + 3 }
}
