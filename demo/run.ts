/**
 * The demo from start to end: a control plane with a real node, lameduck's image from the
 * Dockerfile, lameduck installed as a user installs it, the namespaces, the dry run, the sample app
 * as stored, then a real rollout under load without and with lameduck, each on two paths (a Pod
 * through the ClusterIP, and this machine through nginx following the EndpointSlices), and the
 * table, the picture and the JSON. Everything started is registered with `children`; the caller
 * stops it all (main.ts).
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ensureBinaries, startCluster } from '../control-plane/cluster.js'
import { ensureLameduckImage } from '../control-plane/images/lameduck-image.js'
import { checkNodeMachine, DEMO_REQUIREMENTS, ensureDebianPackages, IMAGE_REQUIREMENTS, NODE_REQUIREMENTS } from '../control-plane/node/prereqs.js'
import { cliClusterDir, cliKubeconfigPath } from '../control-plane/paths.js'
import { readState, writeState } from '../control-plane/state.js'
import type { Children } from './children.js'
import type { DemoOptions } from './flags.js'
import { installLameduck } from './install.js'
import { terminationPlan } from './plan.js'
import { summarizeRun, type RunSummary } from './summary.js'
import { formatTable, RUN_TITLES, type TableColumn } from './table.js'
import { drawTimeline, type TimelineRun } from './timeline-svg.js'
import { runUnderLoad } from './under-load.js'
import { createNamespaces, deployAndReadPods, dryRunInShop, PLAIN, SHOP } from './workloads.js'

/** The two paths of every run. */
export const PATHS = { clusterIP: 'through the ClusterIP', loadBalancer: 'through nginx' } as const
type PathId = keyof typeof PATHS

/** One run: both paths' summaries, and their totals. */
export interface RunResult extends Record<PathId, RunSummary> { requests: number, failed: number }

/** What a demo run came to. */
export interface DemoResult {
  without: RunResult
  with: RunResult
  /** The timeline picture. */
  svgPath: string
}

/** A pause this much above the propagation delay; and the app's own drain after SIGTERM. */
const SLEEP_MARGIN_SECONDS = 2
const BUDGET_SECONDS = 3

/** How long the load runs: the warm-up, a new Pod per replica, the last old Pod's pause and drain, and a tail. */
export function loadSeconds (replicas: number, sleepSeconds: number): number {
  return 6 + replicas * 6 + sleepSeconds + BUDGET_SECONDS + 6
}

/** Runs the demo; `log` gets the progress, one line at a time. */
export async function runDemo (options: DemoOptions, children: Children, log: (line: string) => void): Promise<DemoResult> {
  const step = (n: number, what: string): void => { log(''); log(`== ${n}/6 ${what}`) }
  const sub = (line: string): void => { log(`  ${line}`) }
  // Packages first: without root, the one command to run is the most useful thing to print.
  await ensureDebianPackages([...DEMO_REQUIREMENTS, ...NODE_REQUIREMENTS, ...IMAGE_REQUIREMENTS], sub)
  await checkNodeMachine()
  const out = resolve(options.out)
  for (const dir of ['run-without', 'run-with']) await rm(join(out, dir), { recursive: true, force: true })
  await mkdir(out, { recursive: true })

  step(1, 'binaries and lameduck\'s image (built once, then cached)')
  await ensureBinaries({ log: sub, node: true })
  const image = await ensureLameduckImage(sub)

  if (options.keep && await readState() !== undefined) throw new Error('--keep starts the cluster where npm run cluster:up keeps its own, and one is recorded there: stop it first with npm run cluster:down')
  step(2, 'a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and a node (kubelet, containerd, kube-proxy)')
  const cluster = await startCluster({ log: sub, node: true, ...(options.keep ? { dir: cliClusterDir, detached: true } : {}) })
  if (!options.keep) children.onStop('stop the cluster and its node', () => cluster.stop())
  else {
    await writeState({ dir: cluster.dir, server: cluster.server, version: cluster.version, kubeconfigPath: cluster.kubeconfigPath, pids: cluster.pids, startedAt: new Date().toISOString(), node: cluster.node!.state })
    await copyFile(cluster.kubeconfigPath, cliKubeconfigPath)
  }
  await cluster.node!.importImage(image)
  sub(`API server ${cluster.server} (Kubernetes ${cluster.version}), kubeconfig ${cluster.kubeconfigPath}; lameduck's image imported`)

  step(3, 'lameduck installed as a user installs it')
  await installLameduck(cluster, sub)
  const sleepSeconds = options.propagationDelay + SLEEP_MARGIN_SECONDS
  await createNamespaces(cluster, sleepSeconds, BUDGET_SECONDS, sub)
  const dryRun = await dryRunInShop(cluster)
  sub(`kubectl create --dry-run=server -n ${SHOP} of a plain Pod, as YAML trimmed to what lameduck changes:`)
  for (const line of dryRun.view.split('\n')) sub(`  ${line}`)
  if (dryRun.warnings !== '') sub(`kubectl said: ${dryRun.warnings}`)

  step(4, `the sample app (Deployment "web", ${options.replicas} replica(s), and a Service) in ${PLAIN} and in ${SHOP}; the Pods as stored`)
  for (const namespace of [PLAIN, SHOP]) {
    const plans = (await deployAndReadPods(cluster, namespace, options.replicas)).map(terminationPlan)
    for (const plan of plans) sub(`${plan.pod}: preStop ${plan.preStop}, terminationGracePeriodSeconds ${plan.graceSeconds}`)
    if (namespace === SHOP && plans.some(plan => plan.preStop === 'none')) throw new Error(`a Pod in ${SHOP} was stored without a preStop hook: the webhook did not mutate it`)
  }

  const results: Partial<Record<'without' | 'with', RunResult>> = {}
  const timelines: TimelineRun[] = []
  const durationSeconds = loadSeconds(options.replicas, sleepSeconds)
  for (const [n, id, namespace] of [[5, 'without', PLAIN], [6, 'with', SHOP]] as const) {
    step(n, `kubectl rollout restart under load, the Pods as stored in ${namespace} (${RUN_TITLES[id]})`)
    const run = await runUnderLoad(cluster, children, {
      namespace, rate: options.rate, durationSeconds, propagationDelayMs: options.propagationDelay * 1000, retries: options.retries, dir: join(out, `run-${id}`), log: sub
    })
    if (!(run.rolloutDoneMs < durationSeconds * 1000)) sub(`note: the rollout took ${(run.rolloutDoneMs / 1000).toFixed(0)} s, longer than the load (${durationSeconds} s); its end is not measured`)
    sub('the kubelet\'s events, from the API server (seconds from the start of the load):')
    for (const line of run.kubeletEvents) sub(`  ${line}`)
    const clusterIP = summarizeRun(run.clusterIP.report, '', run.clusterIP.events)
    const loadBalancer = summarizeRun(run.loadBalancer.report, run.loadBalancer.accessLog, run.loadBalancer.events)
    results[id] = { requests: clusterIP.requests + loadBalancer.requests, failed: clusterIP.failed + loadBalancer.failed, clusterIP, loadBalancer }
    for (const path of ['clusterIP', 'loadBalancer'] as const) {
      const { report, events } = run[path]
      timelines.push({ id: `${id}-${path}`, title: `${RUN_TITLES[id]} (${namespace}), ${PATHS[path]}: ${report.requests} requests, ${report.failed} failed`, bucketMs: report.bucketMs, timeline: report.timeline, events })
    }
  }
  const without = results.without!
  const withLameduck = results.with!

  const svgPath = join(out, 'timeline.svg')
  await writeFile(svgPath, drawTimeline(timelines))
  const columns: TableColumn[] = (['without', 'with'] as const).flatMap(id => (['clusterIP', 'loadBalancer'] as const).map(path => ({ title: [RUN_TITLES[id], PATHS[path]] as const, summary: results[id]![path] })))
  log('')
  for (const line of formatTable(columns).trimEnd().split('\n')) log(line)
  log('')
  log(`timeline picture: ${svgPath}`)
  if (options.json !== undefined) {
    await writeFile(options.json, JSON.stringify({ without, with: withLameduck }, null, 2) + '\n')
    log(`JSON: ${resolve(options.json)}`)
  }
  if (options.keep) {
    log(`left running (--keep): the cluster and its node, with lameduck and the sample app; kubeconfig ${cliKubeconfigPath}`)
    log('  stop it with: npm run cluster:down')
  }
  return { without, with: withLameduck, svgPath }
}
