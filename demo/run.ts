/**
 * The demo from start to end: a control plane with a real node, lameduck's image from the
 * Dockerfile, lameduck installed as a user installs it, the namespaces, the dry run, the sample app
 * as stored, then each scenario (a rollout, a scale-in, evictions, a rollout of nginx Pods:
 * scenarios.ts) under load without and with lameduck, each on two paths (a Pod through the
 * ClusterIP, and this machine through nginx following the EndpointSlices), and the tables, the
 * picture and the JSON. Everything started is registered with `children`; the caller
 * stops it all (main.ts).
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
import { terminationPlan } from './plan.js'
import { summarizeRun, type RunSummary } from './summary.js'
import { formatScenarioTable, formatTable, RUN_TITLES, type TableColumn } from './table.js'
import { SCENARIO_ACTIONS, SCENARIO_TITLES, scenarioLoadSeconds, slowRequest, type Scenario } from './scenarios.js'
import { drawColumns, type TimelineColumn, type TimelineRun } from './timeline-svg.js'
import { runUnderLoad } from './under-load.js'
import { createNamespaces, deployAndReadPods, dryRunInShop, PLAIN, removeScenario, SHOP } from './workloads.js'

/** The two paths of every run. */
export const PATHS = { clusterIP: 'through the ClusterIP', loadBalancer: 'through nginx' } as const
type PathId = keyof typeof PATHS

/** One run: both paths' summaries, and their totals. */
export interface RunResult extends Record<PathId, RunSummary> { requests: number, failed: number }

/** A pause this much above the propagation delay; and the app's own drain after SIGTERM. */
const SLEEP_MARGIN_SECONDS = 2
const BUDGET_SECONDS = 3
/** The nginx scenario's slow requests, per second on each path. */
const SLOW_RATE = 2

/** Both runs of one scenario. */
export interface ScenarioResult { without: RunResult, with: RunResult }

/** What a demo run came to: each scenario run (in the order run), and the timeline picture. */
export interface DemoResult {
  scenarios: Partial<Record<Scenario, ScenarioResult>>
  svgPath: string
}

/** Runs the demo; `log` gets the progress, one line at a time. */
export async function runDemo (options: DemoOptions, children: Children, log: (line: string) => void): Promise<DemoResult> {
  const steps = 3 + options.scenarios.length
  const step = (n: number, what: string): void => { log(''); log(`== ${n}/${steps} ${what}`) }
  const sub = (line: string): void => { log(`  ${line}`) }
  const nginxScenario = options.scenarios.includes('nginx')
  // Packages first: without root, the one command to run is the most useful thing to print.
  await ensureDebianPackages([...DEMO_REQUIREMENTS, ...NODE_REQUIREMENTS, ...IMAGE_REQUIREMENTS], sub)
  await checkNodeMachine()
  const out = resolve(options.out)
  for (const entry of await readdir(out).catch(() => [])) if (entry.startsWith('run-')) await rm(join(out, entry), { recursive: true, force: true })
  await mkdir(out, { recursive: true })

  step(1, `binaries and lameduck's image${nginxScenario ? ' and the nginx image' : ''} (built once, then cached)`)
  await ensureBinaries({ log: sub, node: true })
  // Each built image (an OCI image layout), and the name Pods give it.
  const images: Array<[string, string]> = [[await ensureLameduckImage(sub), LAMEDUCK_IMAGE]]
  if (nginxScenario) images.push([await ensureNginxImage(sub), NGINX_IMAGE])

  if (options.keep && await readState() !== undefined) throw new Error('--keep starts the cluster where npm run cluster:up keeps its own, and one is recorded there: stop it first with npm run cluster:down')
  step(2, 'a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and a node (kubelet, containerd, kube-proxy)')
  const cluster = await startCluster({ log: sub, node: true, ...(options.keep ? { dir: cliClusterDir, detached: true } : {}) })
  if (!options.keep) children.onStop('stop the cluster and its node', () => cluster.stop())
  else {
    await writeState({ dir: cluster.dir, server: cluster.server, version: cluster.version, kubeconfigPath: cluster.kubeconfigPath, pids: cluster.pids, startedAt: new Date().toISOString(), node: cluster.node!.state })
    await copyFile(cluster.kubeconfigPath, cliKubeconfigPath)
  }
  for (const [layout, ref] of images) await pushImage(layout, ref, cluster.node!.registry, sub)
  sub(`API server ${cluster.server} (Kubernetes ${cluster.version}), kubeconfig ${cluster.kubeconfigPath}`)
  const names = images.map(([, ref]) => ref).join(' and ')
  sub(`${names} pushed to the node's registry ${cluster.node!.registry}, where its containerd pulls them`)

  step(3, 'lameduck installed as a user installs it')
  await installLameduck(cluster, sub)
  const sleepSeconds = options.propagationDelay + SLEEP_MARGIN_SECONDS
  await createNamespaces(cluster, sleepSeconds, BUDGET_SECONDS, sub)
  const dryRun = await dryRunInShop(cluster)
  sub(`kubectl create --dry-run=server -n ${SHOP} of a plain Pod, as YAML trimmed to what lameduck changes:`)
  for (const line of dryRun.view.split('\n')) sub(`  ${line}`)
  if (dryRun.warnings !== '') sub(`kubectl said: ${dryRun.warnings}`)

  const results: Partial<Record<Scenario, ScenarioResult>> = {}
  const columns: TimelineColumn[] = []
  for (const [i, scenario] of options.scenarios.entries()) {
    step(4 + i, `scenario ${scenario}: ${SCENARIO_ACTIONS[scenario]}`)
    const slow = scenario === 'nginx' ? slowRequest(sleepSeconds) : undefined
    const budgetSeconds = slow?.budgetSeconds ?? BUDGET_SECONDS
    sub(`the ${scenario === 'nginx' ? 'nginx Pods (Debian\'s nginx, a reverse proxy to the sample app)' : 'sample app'}: Deployment "web", ${options.replicas} replica(s), and a Service, in ${PLAIN} and in ${SHOP}${scenario === 'evict' ? ', with a PodDisruptionBudget maxUnavailable 1' : ''}; the Pods as stored:`)
    for (const namespace of [PLAIN, SHOP]) {
      if (i > 0) await removeScenario(cluster, namespace)
      const plans = (await deployAndReadPods(cluster, namespace, { scenario, replicas: options.replicas, sleepSeconds, nginxBudgetSeconds: budgetSeconds })).map(terminationPlan)
      for (const plan of plans) sub(`${plan.pod}: preStop ${plan.preStop}, terminationGracePeriodSeconds ${plan.graceSeconds}`)
      if (namespace === SHOP && plans.some(plan => plan.preStop === 'none')) throw new Error(`a Pod in ${SHOP} was stored without a preStop hook: the webhook did not mutate it`)
    }
    const durationSeconds = scenarioLoadSeconds(scenario, options.replicas, sleepSeconds + budgetSeconds)
    const runs: Partial<Record<'without' | 'with', RunResult>> = {}
    const timelines: TimelineRun[] = []
    columns.push({ title: SCENARIO_TITLES[scenario], runs: timelines })
    for (const [id, namespace] of [['without', PLAIN], ['with', SHOP]] as const) {
      sub('')
      sub(`${SCENARIO_TITLES[scenario]} under load, the Pods as stored in ${namespace} (${RUN_TITLES[id]})`)
      const run = await runUnderLoad(cluster, children, {
        namespace, scenario, rate: options.rate, durationSeconds, propagationDelayMs: options.propagationDelay * 1000, retries: options.retries,
        ...(slow === undefined ? {} : { slow: { ms: slow.ms, rate: SLOW_RATE } }), dir: join(out, `run-${scenario}-${id}`), log: sub
      })
      if (!(run.rolloutDoneMs < durationSeconds * 1000)) sub(`note: the ${scenario} took ${(run.rolloutDoneMs / 1000).toFixed(0)} s, longer than the load (${durationSeconds} s); its end is not measured`)
      sub('the kubelet\'s events, from the API server (seconds from the start of the load):')
      for (const line of run.kubeletEvents) sub(`  ${line}`)
      const clusterIP = summarizeRun(run.clusterIP.report, '', run.clusterIP.events, run.clusterIP.slow)
      const loadBalancer = summarizeRun(run.loadBalancer.report, run.loadBalancer.accessLog, run.loadBalancer.events, run.loadBalancer.slow)
      runs[id] = { requests: clusterIP.requests + loadBalancer.requests, failed: clusterIP.failed + loadBalancer.failed, clusterIP, loadBalancer }
      for (const path of ['clusterIP', 'loadBalancer'] as const) {
        const summary = runs[id][path]
        timelines.push({ id: `${scenario}-${id}-${path}`, title: `${SCENARIO_TITLES[scenario]}, ${RUN_TITLES[id]} (${namespace}), ${PATHS[path]}: ${summary.requests} requests, ${summary.failed} failed`, bucketMs: run[path].report.bucketMs, timeline: run[path].report.timeline, events: run[path].events })
      }
    }
    const result = { without: runs.without!, with: runs.with! }
    results[scenario] = result
    const table: TableColumn[] = (['without', 'with'] as const).flatMap(id => (['clusterIP', 'loadBalancer'] as const).map(path => ({ title: [RUN_TITLES[id], PATHS[path]] as const, summary: result[id][path] })))
    log('')
    log(`${SCENARIO_TITLES[scenario]}:`)
    for (const line of formatTable(table).trimEnd().split('\n')) log(line)
  }

  const svgPath = join(out, 'timeline.svg')
  await writeFile(svgPath, drawColumns(columns))
  log('')
  log('failed of requests, each scenario side by side:')
  for (const line of formatScenarioTable(options.scenarios.map(scenario => ({ title: SCENARIO_TITLES[scenario], result: results[scenario]! }))).trimEnd().split('\n')) log(line)
  log('')
  log(`timeline picture: ${svgPath}`)
  if (options.json !== undefined) {
    await writeFile(options.json, JSON.stringify(results, null, 2) + '\n')
    log(`JSON: ${resolve(options.json)}`)
  }
  if (options.keep) {
    log(`left running (--keep): the cluster and its node, with lameduck and the sample app; kubeconfig ${cliKubeconfigPath}`)
    log('  stop it with: npm run cluster:down')
  }
  return { scenarios: results, svgPath }
}
