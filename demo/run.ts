/**
 * The demo from start to end: control plane, lameduck installed, the namespaces, the dry run, the
 * stored Pods, then the rollout under load without and with lameduck, and the table, the picture and
 * the JSON. Everything started is registered with `children`; the caller stops it all (main.ts).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { startCluster } from '../control-plane/cluster.js'
import type { Children } from './children.js'
import type { DemoOptions } from './flags.js'
import { installLameduck } from './install.js'
import { checkNginx } from './nginx.js'
import { terminationPlan, type TerminationPlan } from './plan.js'
import { runRollout } from './rollout.js'
import { summarizeRun, type RunSummary } from './summary.js'
import { formatTable, RUN_TITLES } from './table.js'
import { drawTimeline } from './timeline-svg.js'
import { createNamespaces, deployAndReadPods, dryRunInShop, PLAIN, SHOP } from './workloads.js'

/** What a demo run came to. */
export interface DemoResult {
  without: RunSummary
  with: RunSummary
  /** The timeline picture. */
  svgPath: string
}

/** A pause this much above the propagation delay; and the app's own drain after SIGTERM. */
const SLEEP_MARGIN_SECONDS = 2
const BUDGET_SECONDS = 3

/** Runs the demo; `log` gets the progress, one line at a time. */
export async function runDemo (options: DemoOptions, children: Children, log: (line: string) => void): Promise<DemoResult> {
  const step = (n: number, what: string): void => { log(''); log(`== ${n}/5 ${what}`) }
  await checkNginx()
  const out = resolve(options.out)
  for (const sub of ['run-without', 'run-with', 'install']) await rm(join(out, sub), { recursive: true, force: true })
  await mkdir(join(out, 'install'), { recursive: true })

  step(1, 'a local control plane: etcd, kube-apiserver, kube-controller-manager (built first if needed)')
  const cluster = await startCluster({ log: line => { log(`  ${line}`) }, ...(options.keep ? { dir: join(out, 'cluster'), detached: true } : {}) })
  if (!options.keep) children.onStop('stop the control plane', () => cluster.stop())
  log(`  API server ${cluster.server} (Kubernetes ${cluster.version}), kubeconfig ${cluster.kubeconfigPath}`)

  step(2, 'lameduck installed as the mutating webhook')
  const webhook = await installLameduck(cluster, children, { dir: join(out, 'install'), keep: options.keep, log: line => { log(`  ${line}`) } })
  const sleepSeconds = options.propagationDelay + SLEEP_MARGIN_SECONDS
  await createNamespaces(cluster, sleepSeconds, BUDGET_SECONDS, line => { log(`  ${line}`) })
  const dryRun = await dryRunInShop(cluster)
  log(`  kubectl create --dry-run=server -n ${SHOP} of a plain Pod, as YAML trimmed to what lameduck changes:`)
  for (const line of dryRun.view.split('\n')) log(`    ${line}`)
  if (dryRun.warnings !== '') log(`  kubectl said: ${dryRun.warnings}`)

  step(3, `Deployment "web" with ${options.replicas} replica(s) in ${PLAIN} and in ${SHOP}; the Pods as stored`)
  const plans: Record<'without' | 'with', TerminationPlan[]> = { without: [], with: [] }
  for (const [id, namespace] of [['without', PLAIN], ['with', SHOP]] as const) {
    plans[id] = (await deployAndReadPods(cluster, namespace, options.replicas)).map(terminationPlan)
    for (const plan of plans[id]) log(`  ${plan.pod}: preStop ${plan.preStop}, terminationGracePeriodSeconds ${plan.graceSeconds}`)
  }
  if (plans.with.some(plan => plan.preStop === 'none')) throw new Error(`a Pod in ${SHOP} was stored without a preStop hook: the webhook did not mutate it (see ${join(out, 'install/webhook.log')})`)

  const summaries: Partial<Record<'without' | 'with', RunSummary>> = {}
  const timelines = []
  for (const [n, id, namespace] of [[4, 'without', PLAIN], [5, 'with', SHOP]] as const) {
    step(n, `rolling update under load, Pods as stored in ${namespace} (${RUN_TITLES[id]})`)
    const result = await runRollout(children, {
      id, plans: plans[id], namespace, rate: options.rate, propagationDelayMs: options.propagationDelay * 1000,
      retries: options.retries, dir: join(out, `run-${id}`), log: line => { log(`  ${line}`) }
    })
    summaries[id] = summarizeRun(result.report, result.accessLog, result.events)
    timelines.push({ id, title: `${RUN_TITLES[id]} (${namespace}): ${result.report.requests} requests, ${result.report.failed} failed`, bucketMs: result.report.bucketMs, timeline: result.report.timeline, events: result.events })
  }
  const without = summaries.without!
  const withLameduck = summaries.with!

  const svgPath = join(out, 'timeline.svg')
  await writeFile(svgPath, drawTimeline(timelines))
  log('')
  for (const line of formatTable(without, withLameduck).trimEnd().split('\n')) log(line)
  log('')
  log(`timeline picture: ${svgPath}`)
  if (options.json !== undefined) {
    await writeFile(options.json, JSON.stringify({ without, with: withLameduck }, null, 2) + '\n')
    log(`JSON: ${resolve(options.json)}`)
  }
  if (options.keep) {
    log(`left running (--keep): control plane PIDs ${cluster.pids.join(' ')}, webhook PID ${webhook.pid}`)
    log(`  KUBECONFIG=${cluster.kubeconfigPath} .lameduck/bin/kubectl get pods -A`)
    log(`  stop them with: kill ${[webhook.pid, ...cluster.pids].join(' ')}`)
  }
  return { without, with: withLameduck, svgPath }
}
