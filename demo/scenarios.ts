/**
 * The ways the demo stops serving Pods, each a scenario run without and with lameduck: a rolling
 * update, a scale-in (what an HPA does), evictions one at a time through the Eviction API (what a
 * drain or a consolidating autoscaler does), and a rolling update of Pods that run nginx (where
 * SIGTERM is a fast shutdown and only SIGQUIT finishes what is in flight). Pure.
 */
import { ConfigError } from '../src/common/flags.js'

/** Every scenario, in the order `all` runs them. */
export const SCENARIOS = ['rollout', 'scale-in', 'evict', 'nginx', 'adaptive'] as const
export type Scenario = typeof SCENARIOS[number]

/** How each reads in the progress lines and the tables. */
export const SCENARIO_TITLES: Readonly<Record<Scenario, string>> = {
  rollout: 'rollout restart',
  'scale-in': 'scale-in to 1',
  evict: 'evictions (policy/v1)',
  nginx: 'nginx rollout',
  adaptive: 'adaptive pause'
}

/** What each does to the Deployment `web`, for the progress lines. */
export const SCENARIO_ACTIONS: Readonly<Record<Scenario, string>> = {
  rollout: 'kubectl rollout restart',
  'scale-in': 'kubectl scale --replicas=1 (as an HPA scaling in)',
  evict: 'the Eviction API, one Pod at a time, the PodDisruptionBudget honoured (as a drain or a consolidating autoscaler)',
  nginx: 'kubectl rollout restart of Pods running nginx, with slow requests in flight',
  adaptive: 'kubectl rollout restart twice, nginx following the EndpointSlices 2 s and then 12 s late: the adaptive pause against a fixed sleep sized for the slow case'
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

/**
 * How long the load runs in `scenario`: the warm-up, the new Pods the disruption waits for (a
 * rollout or an eviction replaces each replica in turn; a scale-in replaces none), the last old
 * Pod's pause and drain (`stopSeconds`), and a tail.
 */
export function scenarioLoadSeconds (scenario: Scenario, replicas: number, stopSeconds: number): number {
  const replaced = scenario === 'scale-in' ? 0 : replicas
  return WARMUP_SECONDS + replaced * NEW_POD_SECONDS + stopSeconds + TAIL_SECONDS
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
