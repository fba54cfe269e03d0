/**
 * The demo from start to end: a control plane with a real node (two for the drain and node-loss
 * scenarios), lameduck's image from the Dockerfile, lameduck installed as a user installs it, the
 * namespaces, the dry run, the sample app as stored, then each scenario (a rollout, a scale-in,
 * evictions, a rollout of nginx Pods, a drain: scenarios.ts) under load without and with lameduck,
 * each on two paths (a Pod through the ClusterIP, and this machine through nginx following the
 * EndpointSlices), a node lost in three layouts (node-loss.ts), and the tables, the picture and the
 * JSON. Everything started is registered with `children`; the caller stops it all (main.ts).
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ensureBinaries, startCluster } from '../control-plane/cluster.js'
import { ensureLameduckImage, LAMEDUCK_IMAGE } from '../control-plane/images/lameduck-image.js'
import { ensureNginxImage, NGINX_IMAGE } from '../control-plane/images/nginx-image.js'
import { pushImage } from '../control-plane/images/push.js'
import { checkNodeMachine, DEMO_REQUIREMENTS, ensureDebianPackages, IMAGE_REQUIREMENTS, NODE_REQUIREMENTS } from '../control-plane/node/prereqs.js'
import { cliClusterDir, cliKubeconfigPath } from '../control-plane/paths.js'
import { readState, writeState } from '../control-plane/state.js'
import type { Children } from './children.js'
import type { DemoOptions } from './flags.js'
import { installLameduck } from './install.js'
import { formatNodeLossTable, type LayoutResult } from './node-loss-report.js'
import { runNodeLoss } from './node-loss.js'
import { liveNodes, nodesOfApp, withPodsOn } from './placement.js'
import { terminationPlan } from './plan.js'
import { median, summarizeRun, type RunSummary } from './summary.js'
import { formatScenarioTable, formatTable, RUN_TITLES, type TableColumn } from './table.js'
import {
  ADAPTIVE_SPEEDS, DEMO_NODE_LIFECYCLE, nodesFor, SCENARIO_ACTIONS, SCENARIO_TITLES, scenarioLoadSeconds, slowRequest,
  type Scenario, type Speed
} from './scenarios.js'
import { drawColumns, type TimelineColumn, type TimelineRun } from './timeline-svg.js'
import { formatWarningEvents } from '../src/check/warning-events.js'
import { runUnderLoad } from './under-load.js'
import { createNamespaces, deployAndReadPods, dryRunInShop, PLAIN, removeScenario, SHOP } from './workloads.js'

/** The two paths of every run. */
export const PATHS = { clusterIP: 'through the ClusterIP', loadBalancer: 'through nginx' } as const
type PathId = keyof typeof PATHS

/**
 * One run: both paths' summaries, and their totals (over the paths with a verdict: a load that fell
 * behind measured itself, not the rollout); the kubelet's Warning events about the Pods stopped; the
 * median of the old Pods' pauses (as lameduck-pause reported them, else the fixed hook's), and the
 * disruption's time until every old Pod was gone; after a drain, the node drained and where the Pods run.
 */
export interface RunResult extends Record<PathId, RunSummary> {
  requests: number
  failed: number
  warningEvents: Record<string, number>
  pauseMsMedian: number
  rolloutMs: number
  drained?: { node: string, podsOn: string[] }
}

/** A pause this much above the propagation delay; and the app's own drain after SIGTERM. */
const SLEEP_MARGIN_SECONDS = 2
const BUDGET_SECONDS = 3
/** The nginx scenario's slow requests, per second on each path. */
const SLOW_RATE = 2

/** Both runs of one scenario. */
export interface ScenarioResult { without: RunResult, with: RunResult }

/** Each scenario's result; the adaptive one has a result per load balancer delay, node-loss one per layout. */
export type DemoResults = Partial<Record<Exclude<Scenario, 'adaptive' | 'node-loss'>, ScenarioResult>>
  & { adaptive?: Record<Speed, ScenarioResult>, 'node-loss'?: Record<string, LayoutResult> }

/** What a demo run came to: each scenario run (in the order run), and the timeline picture. */
export interface DemoResult {
  scenarios: DemoResults
  svgPath: string
}


/** Runs the demo; `log` gets the progress, one line at a time. */
export async function runDemo (
  options: DemoOptions,
  children: Children,
  log: (line: string) => void
): Promise<DemoResult> {
  const steps = 3 + options.scenarios.length
  const step = (n: number, what: string): void => {
    log('')
    log(`== ${n}/${steps} ${what}`)
  }
  const sub = (line: string): void => {
    log(`  ${line}`)
  }
  const nginxScenario = options.scenarios.includes('nginx')
  // Packages first: without root, the one command to run is the most useful thing to print.
  await ensureDebianPackages([...DEMO_REQUIREMENTS, ...NODE_REQUIREMENTS, ...IMAGE_REQUIREMENTS], sub)
  await checkNodeMachine()
  const out = resolve(options.out)
  for (const entry of await readdir(out).catch(() => []))
    if (entry.startsWith('run-')) await rm(join(out, entry), { recursive: true, force: true })
  await mkdir(out, { recursive: true })

  step(1, `binaries and lameduck's image${nginxScenario ? ' and the nginx image' : ''} (built once, then cached)`)
  await ensureBinaries({ log: sub, node: true })
  // Each built image (an OCI image layout), and the name Pods give it.
  const images: Array<[string, string]> = [[await ensureLameduckImage(sub), LAMEDUCK_IMAGE]]
  if (nginxScenario) images.push([await ensureNginxImage(sub), NGINX_IMAGE])

  if (options.keep && (await readState()) !== undefined)
    throw new Error(
      '--keep starts the cluster where npm run cluster:up keeps its own, and one is recorded there: stop it first with npm run cluster:down'
    )
  const nodes = nodesFor(options.scenarios)
  const lifecycle = options.scenarios.includes('node-loss') ? DEMO_NODE_LIFECYCLE : undefined
  const some = nodes === 1 ? 'a node' : `${nodes} nodes`
  step(
    2,
    `a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and ${some} ` +
      '(kubelet, containerd, kube-proxy)'
  )
  if (lifecycle !== undefined) {
    const { graceSeconds, tolerationSeconds } = lifecycle
    sub(
      `a lost node is marked unready after ${graceSeconds} s and its Pods evicted ${tolerationSeconds} s later ` +
        "(Kubernetes' defaults: 50 s and 300 s)"
    )
  }
  const kept = options.keep ? { dir: cliClusterDir, detached: true } : {}
  const shortened = lifecycle === undefined ? {} : { nodeLifecycle: lifecycle }
  const cluster = await startCluster({ log: sub, nodes, ...shortened, ...kept })
  if (!options.keep) children.onStop('stop the cluster and its node', () => cluster.stop())
  else {
    const { dir, server, version, kubeconfigPath, pids } = cluster
    await writeState({ dir, server, version, kubeconfigPath, pids, startedAt: new Date().toISOString() })
    await copyFile(cluster.kubeconfigPath, cliKubeconfigPath)
  }
  const registry = cluster.registry!
  for (const [layout, ref] of images) await pushImage(layout, ref, registry, sub)
  // One path for the user: with --keep, the copy that npm run cluster:up and cluster:down use too.
  const kubeconfig = options.keep ? cliKubeconfigPath : cluster.kubeconfigPath
  sub(`API server ${cluster.server} (Kubernetes ${cluster.version}), kubeconfig ${kubeconfig}`)
  const names = images.map(([, ref]) => ref).join(' and ')
  sub(`${names} pushed to the nodes' registry ${registry.address}, where their containerd pulls them`)

  step(3, 'lameduck installed as a user installs it')
  await installLameduck(cluster, sub)
  const sleepSeconds = options.propagationDelay + SLEEP_MARGIN_SECONDS
  await createNamespaces(cluster, sleepSeconds, BUDGET_SECONDS, sub)
  const dryRun = await dryRunInShop(cluster)
  sub(`kubectl create --dry-run=server -n ${SHOP} of a plain Pod, as YAML trimmed to what lameduck changes:`)
  for (const line of dryRun.view.split('\n')) sub(`  ${line}`)
  if (dryRun.warnings !== '') sub(`kubectl said: ${dryRun.warnings}`)

  const results: DemoResults = {}
  const columns: TimelineColumn[] = []
  const rows: Array<{ title: string, result: ScenarioResult }> = []
  for (const [i, scenario] of options.scenarios.entries()) {
    step(4 + i, `scenario ${scenario}: ${SCENARIO_ACTIONS[scenario]}`)
    if (scenario === 'node-loss') {
      if (i > 0) for (const namespace of [PLAIN, SHOP]) await removeScenario(cluster, namespace)
      const { rate, propagationDelay, retries } = options
      const lost = await runNodeLoss(cluster, children, {
        rate,
        propagationDelay,
        retries,
        sleepSeconds,
        budgetSeconds: BUDGET_SECONDS,
        lifecycle: lifecycle!,
        out,
        log: sub
      })
      results['node-loss'] = lost.results
      columns.push({ title: SCENARIO_TITLES[scenario], runs: lost.timelines })
      log('')
      log(
        `${SCENARIO_TITLES[scenario]}, in ${SHOP} (lameduck cannot help: no kubelet is left to run a preStop), ` +
          'requests failed and when, in seconds after the loss:'
      )
      for (const line of formatNodeLossTable(Object.values(lost.results)).trimEnd().split('\n')) log(line)
      continue
    }
    const runOne = async (key: string, title: string, delaySeconds: number): Promise<ScenarioResult> => {
      const fresh = i > 0 || rows.length > 0
      const result = await runScenario({
        cluster,
        children,
        options,
        scenario,
        key,
        title,
        delaySeconds,
        sleepSeconds,
        fresh,
        out,
        log,
        sub,
        columns
      })
      rows.push({ title, result })
      return result
    }
    if (scenario !== 'adaptive') {
      results[scenario] = await runOne(scenario, SCENARIO_TITLES[scenario], options.propagationDelay)
      continue
    }
    const adaptive: Partial<Record<Speed, ScenarioResult>> = {}
    for (const speed of ['fast', 'slow'] as const) {
      const title = `${SCENARIO_TITLES[scenario]}, nginx ${ADAPTIVE_SPEEDS[speed]}s late`
      adaptive[speed] = await runOne(`adaptive-${speed}`, title, ADAPTIVE_SPEEDS[speed])
    }
    results.adaptive = adaptive as Record<Speed, ScenarioResult>
    log('')
    log(
      'the adaptive pause against a fixed sleep sized for the slow case (median pause; the rollout until every old Pod was gone):'
    )
    const seconds = (ms: number, digits: number): string => `${(ms / 1000).toFixed(digits)}s`
    for (const speed of ['fast', 'slow'] as const) {
      const { with: adaptiveRun, without: fixedRun } = results.adaptive[speed]
      const adaptivePart = `adaptive ${seconds(adaptiveRun.pauseMsMedian, 1)}, rollout ${seconds(adaptiveRun.rolloutMs, 0)}`
      const fixedPart = `fixed sleep ${seconds(fixedRun.pauseMsMedian, 1)}, rollout ${seconds(fixedRun.rolloutMs, 0)}`
      log(`  nginx ${ADAPTIVE_SPEEDS[speed]}s late: ${adaptivePart}; ${fixedPart}`)
    }
  }

  const svgPath = join(out, 'timeline.svg')
  await writeFile(svgPath, drawColumns(columns))
  log('')
  if (rows.length > 0) {
    log('failed of requests, each scenario side by side:')
    for (const line of formatScenarioTable(rows).trimEnd().split('\n')) log(line)
  }
  log('')
  log(`timeline picture: ${svgPath}`)
  if (options.json !== undefined) {
    await writeFile(options.json, JSON.stringify(results, null, 2) + '\n')
    log(`JSON: ${resolve(options.json)}`)
  }
  if (options.keep) {
    log(`left running (--keep): the cluster and its node, with lameduck and the sample app; kubeconfig ${kubeconfig}`)
    log('  stop it with: npm run cluster:down')
  }
  return { scenarios: results, svgPath }
}

/** What one scenario run needs. */
interface ScenarioRun {
  cluster: Awaited<ReturnType<typeof startCluster>>
  children: Children
  options: DemoOptions
  scenario: Scenario
  /** The run's name in file names and the picture's ids (the scenario's, or `adaptive-fast`), and its title. */
  key: string
  title: string
  /** How late nginx follows the EndpointSlices in this run. */
  delaySeconds: number
  /** lameduck's pause in `shop` (the namespace's annotation). */
  sleepSeconds: number
  /** Whether an earlier run's objects must go first. */
  fresh: boolean
  out: string
  log: (line: string) => void
  sub: (line: string) => void
  columns: TimelineColumn[]
}

/** The scenario deployed in both namespaces, then run under load without and with lameduck; its table printed. */
async function runScenario (r: ScenarioRun): Promise<ScenarioResult> {
  const { cluster, options, scenario, sub, log } = r
  const slow = scenario === 'nginx' ? slowRequest(r.sleepSeconds) : undefined
  const budgetSeconds = slow?.budgetSeconds ?? BUDGET_SECONDS
  // Without lameduck, the adaptive scenario's Pods have the fixed sleep sized for the slow case.
  const sleepSeconds = scenario === 'adaptive' ? ADAPTIVE_SPEEDS.slow + SLEEP_MARGIN_SECONDS : r.sleepSeconds
  // A drain takes the node holding a namespace's Pods: plain's are put on the first node, shop's on the second.
  const drainFrom = (namespace: string): string | undefined =>
    scenario === 'drain' ? liveNodes(cluster)[namespace === PLAIN ? 0 : 1] : undefined
  sub(`the ${scenario === 'nginx' ? 'nginx Pods (Debian\'s nginx, a reverse proxy to the sample app)' : 'sample app'}: Deployment "web", ${options.replicas} replica(s), and a Service, in ${PLAIN} and in ${SHOP}${scenario === 'evict' ? ', with a PodDisruptionBudget maxUnavailable 1' : ''}; the Pods as stored:`)
  for (const namespace of [PLAIN, SHOP]) {
    if (r.fresh) await removeScenario(cluster, namespace)
    const app = { scenario, replicas: options.replicas, sleepSeconds, nginxBudgetSeconds: budgetSeconds }
    const deploy = (): ReturnType<typeof deployAndReadPods> => deployAndReadPods(cluster, namespace, app)
    const node = drainFrom(namespace)
    const plans = (await (node === undefined ? deploy() : withPodsOn(cluster, node, deploy))).map(terminationPlan)
    if (node !== undefined) sub(`${namespace}: its Pods all on ${node}, the node its run drains`)
    for (const plan of plans) sub(`${plan.pod}: preStop ${plan.preStop}, terminationGracePeriodSeconds ${plan.graceSeconds}`)
    if (namespace === SHOP && plans.some(plan => plan.preStop === 'none')) throw new Error(`a Pod in ${SHOP} was stored without a preStop hook: the webhook did not mutate it`)
  }
  const durationSeconds = scenarioLoadSeconds(scenario, options.replicas, sleepSeconds + budgetSeconds)
  const runs: Partial<Record<'without' | 'with', RunResult>> = {}
  const timelines: TimelineRun[] = []
  r.columns.push({ title: r.title, runs: timelines })
  for (const [id, namespace] of [['without', PLAIN], ['with', SHOP]] as const) {
    sub('')
    sub(`${r.title} under load, the Pods as stored in ${namespace} (${RUN_TITLES[id]})`)
    const drained = drainFrom(namespace)
    const run = await runUnderLoad(cluster, r.children, {
      namespace,
      scenario,
      rate: options.rate,
      durationSeconds,
      propagationDelayMs: r.delaySeconds * 1000,
      retries: options.retries,
      ...(drained === undefined ? {} : { node: drained }),
      ...(slow === undefined ? {} : { slow: { ms: slow.ms, rate: SLOW_RATE } }),
      dir: join(r.out, `run-${r.key}-${id}`),
      log: sub
    })
    if (!(run.rolloutDoneMs < durationSeconds * 1000)) sub(`note: the ${scenario} took ${(run.rolloutDoneMs / 1000).toFixed(0)} s, longer than the load (${durationSeconds} s); its end is not measured`)
    sub('the kubelet\'s events, from the API server (seconds from the start of the load):')
    for (const line of run.kubeletEvents) sub(`  ${line}`)
    sub(`the kubelet's Warning events about the Pods stopped: ${formatWarningEvents(run.warningEvents)}`)
    const { clusterIP: viaIP, loadBalancer: viaLB, disruption } = run
    const clusterIP = summarizeRun(viaIP.report, '', viaIP.events, viaIP.slow, disruption)
    const loadBalancer = summarizeRun(viaLB.report, viaLB.accessLog, viaLB.events, viaLB.slow, disruption)
    for (const [path, summary] of [['clusterIP', clusterIP], ['loadBalancer', loadBalancer]] as const) {
      if (summary.noVerdict !== undefined) sub(`no verdict ${PATHS[path]}: ${summary.noVerdict}`)
    }
    const judged = [clusterIP, loadBalancer].filter(summary => summary.noVerdict === undefined)
    runs[id] = {
      requests: judged.reduce((sum, s) => sum + s.requests, 0),
      failed: judged.reduce((sum, s) => sum + s.failed, 0),
      warningEvents: run.warningEvents,
      pauseMsMedian: median(run.pauses),
      rolloutMs: Math.round(run.rolloutMs),
      clusterIP,
      loadBalancer
    }
    if (drained !== undefined) {
      runs[id].drained = { node: drained, podsOn: await nodesOfApp(cluster, namespace) }
      sub(`after the drain of ${drained}, the Pods of ${namespace} run on ${runs[id].drained.podsOn.join(', ')}`)
    }
    for (const path of ['clusterIP', 'loadBalancer'] as const) {
      const summary = runs[id][path]
      const unjudged = summary.noVerdict === undefined ? '' : ' (no verdict: the load fell behind)'
      timelines.push({
        id: `${r.key}-${id}-${path}`,
        title: `${r.title}, ${RUN_TITLES[id]} (${namespace}), ${PATHS[path]}: ${summary.requests} requests, ${summary.failed} failed${unjudged}`,
        bucketMs: run[path].report.bucketMs,
        timeline: run[path].report.timeline,
        events: run[path].events
      })
    }
  }
  const result = { without: runs.without!, with: runs.with! }
  const table: TableColumn[] = (['without', 'with'] as const).flatMap(id => (['clusterIP', 'loadBalancer'] as const).map(path => ({ title: [RUN_TITLES[id], PATHS[path]] as const, summary: result[id][path] })))
  log('')
  log(`${r.title}:`)
  for (const line of formatTable(table).trimEnd().split('\n')) log(line)
  return result
}
