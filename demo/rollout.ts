/**
 * One rolling update under load, with real processes: replicas of the sample app behind a real nginx,
 * `runLoad` as the client. The rollout replaces one replica at a time, as a Deployment with
 * maxSurge 1 and maxUnavailable 0 does: start the new replica, add it to nginx once it answers, then
 * delete an old one. A deletion starts two things at the same moment, as in a cluster:
 *
 *   - SIMULATED endpoints controller and ingress: after the propagation delay, nginx is reloaded
 *     without the old replica;
 *   - SIMULATED kubelet (simulated-kubelet.ts): the stored Pod's preStop, SIGTERM, SIGKILL at the
 *     grace deadline.
 *
 * The next replacement starts at once: the Deployment controller does not wait for a terminating
 * Pod to be gone.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePorts } from '../control-plane/ports.js'
import { runLoad } from '../src/load/run.js'
import { toJsonReport, type JsonReport } from '../src/load/report.js'
import type { Children } from './children.js'
import { startNginx } from './nginx.js'
import type { TerminationPlan } from './plan.js'
import { startReplica, type Replica } from './replicas.js'
import { terminatePod } from './simulated-kubelet.js'
import type { RunEvent } from './summary.js'

/** Load before the first replacement, and after the last old replica is gone. */
const WARMUP_MS = 2000
const TAIL_MS = 1500
/** An upper bound only: the run stops the load itself once the rollout is over. */
const MAX_LOAD_MS = 10 * 60_000

/** What one run needs. */
export interface RolloutOptions {
  /** Names this run's directory and log lines: `without`, `with`. */
  id: string
  /** The old replicas' termination plans, one per stored Pod. */
  plans: readonly TerminationPlan[]
  /** The namespace the new replicas are named in. */
  namespace: string
  rate: number
  propagationDelayMs: number
  retries: boolean
  /** This run's directory: nginx's prefix and the replicas' logs. */
  dir: string
  log: (line: string) => void
}

/** What one run came to. */
export interface RolloutResult {
  report: JsonReport
  accessLog: string
  events: RunEvent[]
}

/** Runs the rollout under load; everything it starts is registered with `children`. */
export async function runRollout (children: Children, opts: RolloutOptions): Promise<RolloutResult> {
  const { log, plans } = opts
  await mkdir(opts.dir, { recursive: true })
  log(`starting ${plans.length} replica(s) of the sample app and nginx in front of them`)
  const old = await Promise.all(plans.map(plan => startReplica(children, plan.pod, opts.dir)))
  const endpoints = new Set(old.map(replica => replica.port))
  const [port] = await freePorts(1) as [number]
  const nginx = await startNginx(children, { prefix: join(opts.dir, 'nginx'), port, upstreams: [...endpoints], retries: opts.retries })
  const replacements: Replica[] = []
  const events: RunEvent[] = []
  const abort = new AbortController()
  const t0 = performance.now()
  const at = (): string => `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`
  const mark = (kind: RunEvent['kind'], pod: string): void => {
    events.push({ tMs: performance.now() - t0, kind, pod })
    log(`${at()}  ${kind === 'endpoint-removed' ? 'nginx no longer routes to' : kind.toUpperCase() + ' →'} ${pod}`)
  }
  log(`load: ${opts.rate} requests/s to ${nginx.url} (nginx ${opts.retries ? 'retries on another backend' : 'never retries'})`)
  const load = runLoad({
    url: nginx.url, rate: opts.rate, durationMs: MAX_LOAD_MS, signal: abort.signal,
    onProgress: p => { log(`${at()}  load: sent ${p.sent}, answered ${p.done}, failed ${p.failed}`) }
  })
  try {
    await sleep(WARMUP_MS)
    const terminations: Array<Promise<void>> = []
    for (const [i, plan] of plans.entries()) {
      const name = `${opts.namespace}/web-v2-${i + 1}`
      const next = await startReplica(children, name, opts.dir)
      endpoints.add(next.port)
      await nginx.setUpstreams([...endpoints])
      replacements.push(next)
      log(`${at()}  ${name} answers; nginx routes to it. Deleting ${plan.pod}: preStop ${plan.preStop}, SIGTERM at ${plan.sigtermAtMs / 1000}s, SIGKILL at ${plan.killAtMs / 1000}s; endpoint gone from nginx in ${opts.propagationDelayMs / 1000}s`)
      const gone = old[i]!
      terminations.push(sleep(opts.propagationDelayMs).then(async () => {
        endpoints.delete(gone.port)
        await nginx.setUpstreams([...endpoints])
        mark('endpoint-removed', plan.pod)
      }))
      terminations.push(terminatePod(plan, gone.process, event => { mark(event, plan.pod) }))
    }
    await Promise.all(terminations)
    await sleep(TAIL_MS)
  } finally {
    abort.abort()
  }
  const report = toJsonReport(await load)
  log(`${at()}  load stopped: ${report.requests} requests, ${report.failed} failed`)
  const accessLog = await nginx.accessLog()
  await nginx.stop()
  await Promise.all(replacements.map(replica => replica.process.stop()))
  return { report, accessLog, events }
}
