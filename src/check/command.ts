/**
 * `lameduck check`: the command line around `runCheck`. Flags in, progress on stderr, the load report
 * and a one-line verdict on stdout; exit 0 only when no request failed during the rollout.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, durationFlag, flagTable, numberFlag, parseFlags } from '../common/flags.js'
import { validateLoadOptions } from '../load/run.js'
import { formatReport } from '../load/report.js'
import { DEFAULT_IMAGE } from './job.js'
import { connectScenarioCluster } from './scenario-cluster.js'
import { parseCheckScenario, scenarioHook, withRestore, type CheckScenario, type ScenarioCluster, type SignalTarget } from './scenario.js'
import { runCheck, type CheckCluster, type CheckEnv } from './run.js'
import { judge } from './verdict.js'
import type { Io } from '../common/io.js'

export const CHECK_HELP = `Usage: lameduck check --namespace NS --deployment NAME --service SVC [flags]

In a cluster: starts a Job that runs "lameduck load" against the Service, restarts the Deployment
(as "kubectl rollout restart" does) once the load runs, waits for the rollout to complete and the old
Pods to exit, then reads the load report from the Job's log. Prints the report and a verdict; exits 0
only if no request failed, 1 if some did (or the check could not finish), 2 for a bad flag.

  --namespace NS      namespace of the Deployment and the Service; the Job runs there too
  --deployment NAME   the Deployment to restart
  --service SVC       the Service in front of it, which the load goes through
  --port P            Service port, number or name (default its only port, or the one named http)
  --path PATH         request path (default /)
  --rate R            requests per second (default 20)
  --duration D        how long the load runs; must outlast the rollout and the old Pods' shutdown (default 2m)
  --image I           image with lameduck in it, for the Job (default ${DEFAULT_IMAGE})
  --timeout T         give up after this long, from the start (default 10m)
  --kubeconfig FILE   kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)
  --scenario S        restart (default), scale-in (to 1 replica as an HPA does, then back to what it
                      was, also on failure and Ctrl-C), or evict (each Pod through the Eviction API,
                      waiting while a PodDisruptionBudget refuses)`

const FLAGS = flagTable(['namespace', 'deployment', 'service', 'port', 'path', 'rate', 'duration', 'image', 'timeout', 'kubeconfig', 'scenario'])

type Flags = Partial<Record<keyof typeof FLAGS, string>>

function required (flags: Flags, name: 'namespace' | 'deployment' | 'service'): string {
  const value = flags[name]
  if (value === undefined || value.trim() === '') throw new ConfigError(`--${name} is required`)
  return value
}

/** A duration flag that must be above 0 (a load or a wait of no time checks nothing). */
function seconds (flag: string, text: string | undefined, fallback: number): number {
  const value = durationFlag(flag, text, fallback)
  if (value === 0) throw new ConfigError(`--${flag} must be above 0`)
  return value
}

/** The check's options from flags; throws ConfigError (exit 2) naming the first bad one. */
export function readCheckOptions (argv: readonly string[]): Parameters<typeof runCheck>[0] & { kubeconfig: string | undefined, scenario?: CheckScenario } {
  const flags = parseFlags(argv, FLAGS) as Flags
  const namespace = required(flags, 'namespace')
  const deployment = required(flags, 'deployment')
  const service = required(flags, 'service')
  const rate = numberFlag('rate', flags.rate, { fallback: 20 })
  const durationSeconds = seconds('duration', flags.duration, 120)
  const timeoutSeconds = seconds('timeout', flags.timeout, 600)
  try {
    validateLoadOptions({ url: 'http://check.invalid/', rate, durationMs: durationSeconds * 1000 })
  } catch (err) {
    throw new ConfigError(`--${(err as Error).message}`)
  }
  if (timeoutSeconds <= durationSeconds) throw new ConfigError(`--timeout (${timeoutSeconds}s) must be longer than --duration (${durationSeconds}s): the load alone takes that long`)
  const path = flags.path ?? '/'
  if (!path.startsWith('/')) throw new ConfigError(`--path must start with /, not ${JSON.stringify(path)}`)
  const image = flags.image ?? DEFAULT_IMAGE
  if (image.trim() === '') throw new ConfigError('--image must not be empty')
  return { namespace, deployment, service, port: flags.port, path, rate, durationSeconds, image, timeoutMs: timeoutSeconds * 1000, kubeconfig: flags.kubeconfig, ...(flags.scenario === undefined ? {} : { scenario: parseCheckScenario(flags.scenario) }) }
}

/** The real clock; tests pass their own. */
export const realClock: Omit<CheckEnv, 'log'> = { now: () => Date.now(), sleep: async (ms: number) => { await sleep(ms) } }

/** Runs `lameduck check`; resolves with the exit code. `connect` and `clock` are for tests. */
export async function runCheckCommand (argv: readonly string[], io: Io, connect: (kubeconfig: string | undefined) => CheckCluster & Partial<Pick<ScenarioCluster, 'evictPod'>> = connectScenarioCluster, clock: Omit<CheckEnv, 'log'> = realClock, signals?: SignalTarget): Promise<number> {
  const { kubeconfig, scenario = 'restart', ...options } = readCheckOptions(argv)
  const cluster = connect(kubeconfig)
  io.stderr(`checking deployment ${options.namespace}/${options.deployment} through Service ${options.service} on ${cluster.server}\n`)
  const log = (line: string): void => { io.stderr(`${line}\n`) }
  const hook = scenarioHook(scenario, options, cluster, { log })
  const { report } = await withRestore(() => hook.restore(), () => runCheck({ ...options, ...(hook.disrupt === undefined ? {} : { disrupt: hook.disrupt }) }, cluster, { ...clock, log }), log, signals)
  const verdict = judge(report)
  io.stdout(`${formatReport(report)}${verdict.line}\n`)
  return verdict.code
}
