/**
 * The node-loss scenario: a node stopped hard under load, as an instance termination does, in three
 * layouts of the sample app's Pods (one replica; two on the node that is lost; two on two nodes),
 * each on its own pair of nodes. lameduck cannot help here: no kubelet is left to run a preStop, and
 * the Pods' endpoints stay until the control plane marks the node unready. The app runs in `shop`
 * (with lameduck) to show just that. After each layout the lost node is deleted, as a cloud's node
 * controller does for a terminated instance, and a new node joins, as an autoscaling group's
 * replacement would.
 */
import { join } from 'node:path'
import type { Cluster } from '../control-plane/cluster.js'
import type { NodeLifecycle } from '../control-plane/node/config.js'
import type { Children } from './children.js'
import { explainLayout, failureWindow, markedMilestones, secondsAfter } from './node-loss-report.js'
import type { LayoutResult, Milestones } from './node-loss-report.js'
import { liveNodes, withPodsOn } from './placement.js'
import { summarizeRun, type RunEvent } from './summary.js'
import { NODE_LOSS_LAYOUTS, nodeLossLoadSeconds, type NodeLossLayout } from './scenarios.js'
import type { TimelineRun } from './timeline-svg.js'
import { runUnderLoad, type PathResult } from './under-load.js'
import { deployAndReadPods, kubectl, removeScenario, SHOP } from './workloads.js'

/** What the scenario needs from the demo's run. */
export interface NodeLossOptions {
  rate: number
  propagationDelay: number
  retries: boolean
  sleepSeconds: number
  budgetSeconds: number
  lifecycle: NodeLifecycle
  out: string
  log: (line: string) => void
}

interface Condition { type: string, status: string, lastTransitionTime?: string }
interface PodJson { metadata: { name: string }, spec: { nodeName?: string }, status?: { conditions?: Condition[] } }

/** The node that is lost, and the one that stays. */
interface Pair { lost: string, other: string }

/** The layout's Pods in `shop`: all on `lost`, or one there and one on `other`. */
async function place (cluster: Cluster, layout: NodeLossLayout, nodes: Pair, o: NodeLossOptions): Promise<void> {
  const { lost, other } = nodes
  const app = { scenario: 'node-loss', sleepSeconds: o.sleepSeconds, nginxBudgetSeconds: o.budgetSeconds } as const
  const deploy = (replicas: number): Promise<unknown> => deployAndReadPods(cluster, SHOP, { ...app, replicas })
  await withPodsOn(cluster, lost, () => deploy(layout.onLostNode))
  if (layout.replicas > layout.onLostNode) {
    await withPodsOn(cluster, other, async () => {
      await kubectl(cluster, ['scale', 'deployment/web', '-n', SHOP, `--replicas=${layout.replicas}`])
      await kubectl(cluster, ['rollout', 'status', 'deployment/web', '-n', SHOP, '--timeout=180s'])
    })
  }
}

/** The node lost, when (ms since the epoch), and how many replicas the app had. */
interface Loss { node: string, at: number, replicas: number }

/**
 * The milestones after a loss at `lostAt` (ms since the epoch): the node's and the replacements'
 * Ready transitions from the API server, the endpoints and evictions from the run's own marks (a
 * Pod's deletionTimestamp is when its grace period ends, not when it was evicted).
 */
async function milestones (cluster: Cluster, loss: Loss, events: readonly RunEvent[]): Promise<Milestones> {
  const { node: lost, at: lostAt, replicas } = loss
  const node = JSON.parse(await kubectl(cluster, ['get', 'node', lost, '-o', 'json'])) as PodJson
  const ready = (p: PodJson): Condition | undefined => p.status?.conditions?.find(c => c.type === 'Ready')
  const list = await kubectl(cluster, ['get', 'pods', '-n', SHOP, '-l', 'app=web', '-o', 'json'])
  const pods = (JSON.parse(list) as { items: PodJson[] }).items
  const replacements = pods
    .filter(p => p.spec.nodeName !== lost && ready(p)?.status === 'True')
    .map(p => secondsAfter(lostAt, ready(p)?.lastTransitionTime) ?? 0)
    .sort((a, b) => a - b)
  const nodeReady = ready(node)
  return {
    nodeUnreadyS: nodeReady?.status === 'True' ? null : secondsAfter(lostAt, nodeReady?.lastTransitionTime),
    ...markedMilestones(events),
    replacedS: replacements.length < replicas ? null : replacements[replicas - 1]!
  }
}

/** The lost node goes as a cloud deletes a terminated instance's Node (its Pods with it), and a new node joins. */
async function replaceNode (cluster: Cluster, lost: string, log: (line: string) => void): Promise<void> {
  await kubectl(cluster, ['delete', 'node', lost, '--wait=false'])
  const its = `spec.nodeName=${lost}`
  await kubectl(cluster, ['delete', 'pods', '-n', SHOP, '--field-selector', its, '--force', '--grace-period=0'])
  const added = await cluster.addNode()
  log(`node ${lost} deleted (as a cloud's node controller does for a terminated instance); ${added.name} joined`)
}

/** The path whose marks the milestones come from: this machine's, through nginx. */
const LB = 'loadBalancer'

/** One path's failures and events from the loss on. */
function windowOf (path: PathResult): ReturnType<typeof failureWindow> {
  const loss = path.events.find((e: RunEvent) => e.kind === 'sigkill')
  return loss === undefined ? null : failureWindow(path.report, loss.tMs)
}

/** Each layout's result, by its id, and the timeline's panels. */
export interface NodeLossResult { results: Record<string, LayoutResult>, timelines: TimelineRun[] }

/** Runs every layout; resolves with each layout's result and the timeline's panels. */
export async function runNodeLoss (cluster: Cluster, children: Children, o: NodeLossOptions): Promise<NodeLossResult> {
  const results: Record<string, LayoutResult> = {}
  const timelines: TimelineRun[] = []
  for (const layout of NODE_LOSS_LAYOUTS) {
    const [lost, other] = liveNodes(cluster) as [string, string]
    o.log('')
    const elsewhere = layout.replicas > layout.onLostNode ? `, 1 on ${other}` : ''
    o.log(`${layout.title}: ${layout.onLostNode} on ${lost}, which is lost${elsewhere}; the load runs from ${other}`)
    await removeScenario(cluster, SHOP)
    await place(cluster, layout, { lost, other }, o)
    const run = await runUnderLoad(cluster, children, {
      namespace: SHOP, scenario: 'node-loss', node: lost, rate: o.rate,
      durationSeconds: nodeLossLoadSeconds(o.lifecycle),
      propagationDelayMs: o.propagationDelay * 1000, retries: o.retries, dir: join(o.out, `run-node-loss-${layout.id}`),
      log: o.log
    })
    const clusterIP = summarizeRun(run.clusterIP.report, '', run.clusterIP.events)
    const loadBalancer = summarizeRun(run.loadBalancer.report, run.loadBalancer.accessLog, run.loadBalancer.events)
    const loss = { node: lost, at: run.disruptedAt, replicas: layout.replicas }
    const result: LayoutResult = {
      layout: layout.title,
      lostNode: lost,
      requests: clusterIP.requests + loadBalancer.requests,
      failed: clusterIP.failed + loadBalancer.failed,
      clusterIP,
      loadBalancer,
      windows: { clusterIP: windowOf(run.clusterIP), loadBalancer: windowOf(run.loadBalancer) },
      milestones: await milestones(cluster, loss, run[LB].events)
    }
    results[layout.id] = result
    for (const line of explainLayout(result)) o.log(line)
    for (const [path, summary] of [['clusterIP', clusterIP], ['loadBalancer', loadBalancer]] as const) {
      const through = path === 'clusterIP' ? 'through the ClusterIP' : 'through nginx'
      const title = `a node lost, ${layout.title}, ${through}: ${summary.requests} requests, ${summary.failed} failed`
      const { bucketMs, timeline } = run[path].report
      timelines.push({ id: `node-loss-${layout.id}-${path}`, title, bucketMs, timeline, events: run[path].events })
    }
    await replaceNode(cluster, lost, o.log)
  }
  return { results, timelines }
}
