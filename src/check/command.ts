/**
 * `lameduck check`: the command line around `runCheck`. Flags in, progress on stderr, the load report,
 * the propagation delay and a one-line verdict on stdout; exit 0 only when no request failed during
 * the rollout. With `--measure`, the delay in full and the sleep to set instead of a verdict.
 */
import { writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, flagTable, numberFlag, parseFlags } from '../common/flags.js'
import { durationFlag } from '../options/read.js'
import { runLoad, validateLoadOptions } from '../load/run.js'
import { formatReport, toJsonReport } from '../load/report.js'
import { IDENTIFY_FORMS, parseIdentify } from '../load/identify.js'
import { DEFAULT_IMAGE, loadCpu } from './job.js'
import type { PodTimes } from './observe.js'
import { countWarningEvents, formatWarningEvents } from './warning-events.js'
import { connectCheckCluster } from './cluster.js'
import { parseCheckScenario, scenarioHook, withRestore, type CheckScenario, type ScenarioCluster, type SignalTarget } from './scenario.js'
import { DEFAULT_MEASURE_SLEEP_SECONDS } from './measure.js'
import { measure, measurementJson } from './measurement.js'
import { runCheck, type CheckCluster, type CheckEnv, type CheckOptions, type CheckResult } from './run.js'
import { drawPodTimeline } from './timeline-svg.js'
import { judge } from './verdict.js'
import type { Io } from '../common/io.js'
import type { KubeTarget } from '../kube/access.js'

export const CHECK_HELP = `Usage: lameduck check --namespace NS --deployment NAME --service SVC [flags]

In a cluster: starts a Job that runs "lameduck load" against the Service, restarts the Deployment
(as "kubectl rollout restart" does) once the load runs, waits for the rollout to complete and the old
Pods to exit, then reads the load report from the Job's log. Prints the report, each old Pod's
propagation delay (from its deletion to the last request it answered), the kubelet's Warning events
about the old Pods and a verdict; exits 0 only if no request failed, 1 if some did (or the check
could not finish), 2 for a bad flag, 3 for no verdict: the load fell more than 1s behind its schedule
while the Pods were stopped. With --measure: the delay in full and the prestop-sleep to set instead
of a verdict (exit 1 if it was not measured, 3 if the load fell behind as above).

  --namespace NS      namespace of the Deployment and the Service; the Job runs there too
  --deployment NAME   the Deployment to restart
  --service SVC       the Service in front of it, which the load goes through
  --port P            Service port, number or name (default its only port, or the one named http)
  --path PATH         request path (default /)
  --rate R            requests per second (default 20)
  --duration D        how long the load runs; must outlast the rollout and the old Pods' shutdown
                      (default 2m; with --measure, the measuring pause + 90s, at least 2m)
  --image I           image with lameduck in it, for the Job (default ${DEFAULT_IMAGE})
  --load-cpu Q        the load Pod's CPU request (default 2m per request/s, at least 100m)
  --timeout T         give up after this long, from the start (default 10m)
  --kubeconfig FILE   kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME      a context of the kubeconfig other than its current one
  --url URL           load this URL from here instead of the Service from a Job: the address real
                      traffic takes (a load balancer, an Ingress host)
  --identify SPEC     how an answer says which replica sent it: ${IDENTIFY_FORMS}
                      (default json:pod); each old Pod's last answer gives its propagation delay
  --measure           measure the propagation delay in full instead: the Pods get a long pause (a
                      temporary Pod-template annotation, put back at the end, also on failure and
                      Ctrl-C), and the result is the prestop-sleep to set and the kubectl line to set it
  --measure-sleep D   the measuring pause (default ${DEFAULT_MEASURE_SLEEP_SECONDS}s); must be longer than the delay
  --json FILE         also write the result (per-Pod moments, delay, recommendation, report) as JSON
  --svg FILE          also draw each old Pod's timeline (deletion, endpoint, last answer, SIGTERM, exit)
  --scenario S        restart (default), scale-in (to 1 replica as an HPA does, then back to what it
                      was, also on failure and Ctrl-C), or evict (each Pod through the Eviction API,
                      waiting while a PodDisruptionBudget refuses)`

const FLAGS = flagTable([
  'namespace', 'deployment', 'service', 'port', 'path', 'rate', 'duration', 'image', 'timeout',
  'kubeconfig', 'context', 'url', 'identify', 'measure-sleep', 'json', 'svg', 'scenario', 'load-cpu'
], ['measure'])

type Flags = Partial<Record<Exclude<keyof typeof FLAGS, 'measure'>, string>> & { measure?: boolean }

function required (flags: Flags, name: 'namespace' | 'deployment' | 'service'): string {
  const value = flags[name]
  if (value === undefined || value.trim() === '') throw new ConfigError(`--${name} is required`)
  return value
}

/** A CPU request: millicores (`250m`) or cores (`1`, `0.5`), above 0. */
const CPU_QUANTITY = /^(?!0+m?$)(?!0*\.0+$)(\d+m|\d+(\.\d{1,3})?)$/

/** A duration flag that must be above 0 (a load or a wait of no time checks nothing). */
function seconds (flag: string, text: string | undefined, fallback: number): number {
  const value = durationFlag(flag, text, fallback)
  if (value === 0) throw new ConfigError(`--${flag} must be above 0`)
  return value
}

/** Where the cluster is, and what the command writes besides its output. */
export interface CheckOutputs { cluster: KubeTarget, json: string | undefined, svg: string | undefined }

/** The check's options from flags; throws ConfigError (exit 2) naming the first bad one. */
export function readCheckOptions (argv: readonly string[]): CheckOptions & CheckOutputs & { scenario?: CheckScenario } {
  const flags = parseFlags(argv, FLAGS) as Flags
  const namespace = required(flags, 'namespace')
  const deployment = required(flags, 'deployment')
  const service = required(flags, 'service')
  const rate = numberFlag('rate', flags.rate, { fallback: 20 })
  if (flags['measure-sleep'] !== undefined && flags.measure !== true) throw new ConfigError('--measure-sleep goes with --measure')
  const measureSleep = flags.measure === true ? seconds('measure-sleep', flags['measure-sleep'], DEFAULT_MEASURE_SLEEP_SECONDS) : undefined
  // Measuring, the old Pods pause for the whole measuring pause: the load must outlast it.
  const durationSeconds = seconds('duration', flags.duration, measureSleep === undefined ? 120 : Math.max(120, measureSleep + 90))
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
  const identify = flags.identify ?? 'json:pod'
  try {
    parseIdentify(identify)
    if (flags.url !== undefined) validateLoadOptions({ url: flags.url, rate, durationMs: 1 })
  } catch (err) {
    throw new ConfigError(`--${(err as Error).message}`)
  }
  for (const flag of ['json', 'svg'] as const) if (flags[flag]?.trim() === '') throw new ConfigError(`--${flag} must name a file`)
  const cpu = flags['load-cpu']
  if (cpu !== undefined && !CPU_QUANTITY.test(cpu)) {
    throw new ConfigError(`--load-cpu must be a CPU quantity such as 250m or 1, not ${JSON.stringify(cpu)}`)
  }
  if (cpu !== undefined && flags.url !== undefined) {
    throw new ConfigError('--load-cpu is the load Job\'s; with --url the load runs here')
  }
  const scenario = flags.scenario === undefined ? undefined : parseCheckScenario(flags.scenario)
  if (measureSleep !== undefined && scenario !== undefined && scenario !== 'restart') throw new ConfigError(`--measure measures a rollout: it goes with --scenario restart, not ${scenario}`)
  return {
    namespace,
    deployment,
    service,
    port: flags.port,
    path,
    rate,
    durationSeconds,
    image,
    timeoutMs: timeoutSeconds * 1000,
    identify,
    ...(flags.url === undefined ? {} : { url: flags.url }),
    ...(cpu === undefined ? {} : { loadCpu: cpu }),
    ...(measureSleep === undefined ? {} : { measureSleepSeconds: measureSleep }),
    cluster: { kubeconfig: flags.kubeconfig, context: flags.context },
    json: flags.json,
    svg: flags.svg,
    ...(scenario === undefined ? {} : { scenario })
  }
}

/** The kubelet's Warning events about the old Pods, per reason; undefined (and a line why) when they cannot be read. */
async function readWarningEvents (
  cluster: CheckCluster, namespace: string, pods: readonly PodTimes[], log: (line: string) => void
): Promise<Record<string, number> | undefined> {
  if (cluster.listEvents === undefined) return undefined
  try {
    return countWarningEvents(await cluster.listEvents(namespace), new Set(pods.map(p => p.pod)))
  } catch (err) {
    log(`the kubelet's Warning events about the old Pods were not read: ${(err as Error).message}`)
    return undefined
  }
}

/** The real clock and the real load; tests pass their own. */
export const realClock: Omit<CheckEnv, 'log'> = {
  now: () => Date.now(),
  sleep: async (ms: number) => {
    await sleep(ms)
  },
  runLocalLoad: async ({ identify, ...load }) =>
    toJsonReport(await runLoad({ ...load, keepAlive: false, identify: parseIdentify(identify) }))
}

/** The exit code after Ctrl-C (128 + SIGINT), once what was changed is put back. */
const INTERRUPTED = 130

/** Where the Io catches Ctrl-C (the CLI's), withRestore leaves the process's signals to it. */
const ignore = (): undefined => undefined
const IO_OWNS_SIGNALS: SignalTarget = { once: ignore, off: ignore, exit: ignore }

/** A check's cluster: every call of a run, evictions where it can (`--scenario evict`), and its end. */
export type CheckConnection = CheckCluster & Partial<Pick<ScenarioCluster, 'evictPod'>> & {
  close?: () => Promise<void>
}

/** Runs `lameduck check`; resolves with the exit code. `connect` and `clock` are for tests. */
export async function runCheckCommand (argv: readonly string[], io: Io,
  connect: (target: KubeTarget) => CheckConnection | Promise<CheckConnection> = connectCheckCluster,
  clock: Omit<CheckEnv, 'log'> = realClock, signals?: SignalTarget): Promise<number> {
  const { cluster: target, scenario = 'restart', ...options } = readCheckOptions(argv)
  const cluster = await connect(target)
  try {
    return await checkWith(options, scenario, cluster, io, clock, signals)
  } finally {
    await cluster.close?.()
  }
}

/** The check on a connected cluster: the run, the scenario's restore, Ctrl-C, then what is printed and written. */
async function checkWith ({ json, svg, ...options }: CheckOptions & Omit<CheckOutputs, 'cluster'>,
  scenario: CheckScenario, cluster: CheckConnection, io: Io, clock: Omit<CheckEnv, 'log'>,
  signals: SignalTarget | undefined): Promise<number> {
  io.stderr(`${options.measureSleepSeconds === undefined ? 'checking' : 'measuring'} deployment ${options.namespace}/${options.deployment} through ${options.url ?? `Service ${options.service}`} on ${cluster.server}\n`)
  const log = (line: string): void => { io.stderr(`${line}\n`) }
  const hook = scenarioHook(scenario, options, cluster, { log })
  // Ctrl-C once, where the Io catches it: the run stops waiting and everything is put back (the
  // measuring override by runCheck, a scenario's change by withRestore); a second one is not caught.
  let interrupted = false
  const release = io.onInterrupt?.(() => { interrupted = true; release?.(); log('interrupted: putting back what was changed (Ctrl-C again to leave it as it is)') })
  let result
  try {
    result = await withRestore(
      () => hook.restore(),
      async () =>
        await runCheck({ ...options, ...(hook.disrupt === undefined ? {} : { disrupt: hook.disrupt }) }, cluster, {
          ...clock,
          log,
          interrupted: () => interrupted
        }),
      log,
      signals ?? (release === undefined ? process : IO_OWNS_SIGNALS)
    )
  } catch (err) {
    if (!interrupted) throw err
    io.stderr(`lameduck check: ${(err as Error).message}\n`)
    return INTERRUPTED
  } finally {
    release?.()
  }
  return await conclude(options, result, cluster, io, { json, svg })
}

/** What a finished run prints and writes: the report, the delay, the Warning events and the verdict; its exit code. */
async function conclude (options: CheckOptions, result: CheckResult, cluster: CheckCluster, io: Io,
  { json, svg }: Omit<CheckOutputs, 'cluster'>): Promise<number> {
  const log = (line: string): void => { io.stderr(`${line}\n`) }
  const remedy = options.url === undefined
    ? `more CPU for the load Pod (--load-cpu, now ${options.loadCpu ?? loadCpu(options.rate)})`
    : 'more CPU where check runs'
  const input = { ...options, url: result.url, report: result.report, pods: result.pods, remedy }
  const measured = measure(input)
  const verdict = options.measureSleepSeconds === undefined ? judge(result.report, result.pods, remedy) : undefined
  const warningEvents = await readWarningEvents(cluster, options.namespace, result.pods, log)
  const events = warningEvents === undefined
    ? []
    : [`the kubelet's Warning events about the old Pods: ${formatWarningEvents(warningEvents)}`]
  const lines = [...measured.lines, ...events].join('\n')
  io.stdout(`${formatReport(result.report)}${lines}\n${verdict === undefined ? '' : `${verdict.line}\n`}`)
  if (json !== undefined) {
    await writeFile(json, `${JSON.stringify(measurementJson(input, measured, verdict, warningEvents), null, 2)}\n`)
  }
  if (svg !== undefined) await writeFile(svg, drawPodTimeline(`deployment ${options.namespace}/${options.deployment} through ${result.url}: old Pods, seconds from the first deletion`, measured.delays))
  return verdict?.code ?? measured.code
}
