/**
 * `npm run demo -- [flags]`: read once, checked, frozen. A bad flag or value is a ConfigError: main.ts
 * prints it as one line and exits 2.
 */
import { ConfigError, parseFlags } from '../src/common/flags.js'
import { parseDuration } from '../src/admission/duration.js'
import { parseScenarios, SCENARIOS, type Scenario } from './scenarios.js'

/** What one demo run does. */
export interface DemoOptions {
  /** The ways Pods are stopped, each run without and with lameduck (demo/scenarios.ts). */
  readonly scenarios: readonly Scenario[]
  /** Requests per second of the load, on each path (ClusterIP and nginx). */
  readonly rate: number
  /** Replicas of the sample app, each replaced once per rollout. */
  readonly replicas: number
  /** How long an endpoint's removal takes to reach nginx, in seconds. */
  readonly propagationDelay: number
  /** Let nginx retry a failed request on another backend (`proxy_next_upstream error timeout`). */
  readonly retries: boolean
  /** Leave the cluster and its node (and lameduck) running at the end. */
  readonly keep: boolean
  /** Also write the two runs' summaries to this file as JSON. */
  readonly json: string | undefined
  /** Where nginx's prefixes and the timeline picture go. */
  readonly out: string
}

/** The answer to the command line: run, or print the help. */
export type DemoCommand = { readonly help: true } | { readonly help: false, readonly options: DemoOptions }

/** Where the demo writes unless told otherwise; `.lameduck/` is git-ignored. */
export const DEFAULT_OUT = '.lameduck/demo'

/** `npm run demo -- --help`. */
export const DEMO_HELP = `Usage: npm run demo -- [flags]

On this machine, end to end, as root: a real local cluster (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler) with a real node (kubelet, containerd, runc, CNI bridge,
kube-proxy; two nodes for drain and node-loss), lameduck's image built from the Dockerfile, lameduck
installed with helm install of the chart, a namespace "shop" that opts in and one that does not, and
in each a sample app that drains on SIGTERM. Then a scenario under load (default: \`kubectl rollout
restart\` of the app), in both namespaces,
on two paths at once: a Pod running lameduck load through the Service's ClusterIP, and this machine
through nginx, which follows the EndpointSlices the way ingress-nginx or an ALB does. Only nginx's
propagation delay is simulated. Debian packages it needs are installed first (or named).

  --scenario S             ${SCENARIOS.join('|')}|all, or a comma-separated list (default rollout):
                           a rolling update; a scale-in to 1 replica (as an HPA); evictions one Pod
                           at a time through the Eviction API with a PodDisruptionBudget (as a drain
                           or Karpenter); a rolling update of Pods running nginx, with slow requests;
                           two rollouts, nginx 2 s and 12 s late: the adaptive pause against a fixed sleep;
                           kubectl drain of the node holding the Pods (two nodes); a node stopped
                           hard, in three layouts of the Pods, with lameduck only (two nodes)
  --rate N                 requests per second on each path (default 200)
  --replicas N             replicas of the sample app, 1-10 (default 3; node-loss sets its own)
  --propagation-delay D    how late nginx learns of an EndpointSlice change, e.g. 3s (default 3s)
  --retries                let nginx retry a failed request on another backend, to show what that hides
  --keep                   leave the cluster running at the end (stop it with npm run cluster:down)
  --json FILE              also write {"SCENARIO": {"without": {...}, "with": {...}}, ...} to FILE
  --out DIR                where nginx and the timeline picture go (default ${DEFAULT_OUT})
  --help                   this text`

const FLAGS = {
  scenario: { type: 'string' },
  rate: { type: 'string' },
  replicas: { type: 'string' },
  'propagation-delay': { type: 'string' },
  retries: { type: 'boolean' },
  keep: { type: 'boolean' },
  json: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' }
} as const

type Flags = Partial<{ scenario: string, rate: string, replicas: string, 'propagation-delay': string, retries: boolean, keep: boolean, json: string, out: string, help: boolean }>

/** A number from `text` within [min, max], whole if asked; `fallback` when the flag is absent. */
function numberFlag (
  name: string,
  text: string | undefined,
  fallback: number,
  { min, max, whole }: { min: number, max: number, whole: boolean }
): number {
  if (text === undefined) return fallback
  const value = text.trim() === '' ? NaN : Number(text)
  if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
    throw new ConfigError(
      `--${name}: ${JSON.stringify(text)} is not ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`
    )
  }
  return value
}

/** Reads the demo's flags; throws ConfigError naming the first bad one. */
export function readDemoCommand (argv: readonly string[]): DemoCommand {
  const flags = parseFlags(argv, FLAGS) as Flags
  if (flags.help === true) return { help: true }
  const delayText = flags['propagation-delay'] ?? '3s'
  const delay = parseDuration(delayText)
  if (delay instanceof Error) throw new ConfigError(`--propagation-delay: ${delay.message}`)
  if (delay < 1 || delay > 60) throw new ConfigError(`--propagation-delay: ${JSON.stringify(delayText)} must be from 1s to 60s`)
  for (const name of ['json', 'out'] as const) {
    if (flags[name] === '') throw new ConfigError(`--${name} must not be empty`)
  }
  return {
    help: false,
    options: Object.freeze({
      scenarios: Object.freeze(parseScenarios(flags.scenario ?? 'rollout')),
      rate: numberFlag('rate', flags.rate, 200, { min: 10, max: 2000, whole: false }),
      replicas: numberFlag('replicas', flags.replicas, 3, { min: 1, max: 10, whole: true }),
      propagationDelay: delay,
      retries: flags.retries ?? false,
      keep: flags.keep ?? false,
      json: flags.json,
      out: flags.out ?? DEFAULT_OUT
    })
  }
}
