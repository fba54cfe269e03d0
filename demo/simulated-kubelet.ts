/**
 * SIMULATED: there is no kubelet on this machine, so this module does, to a real process, what the
 * kubelet does to a container when its Pod is deleted, following the plan read from the stored Pod
 * (plan.ts): the preStop hook (a sleep: the hook holds no resources, so waiting is all it does),
 * then SIGTERM, then SIGKILL if the process still runs at the grace deadline, counted from the start
 * of preStop. It does not simulate probes, restarts, or hooks other than sleeps.
 *
 * Also simulated, in rollout.ts: the endpoints controller and the path to the load balancer, which
 * in a cluster remove the Pod's endpoint at the same moment the kubelet starts, and reach nginx after
 * the propagation delay.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Child } from './children.js'
import type { TerminationPlan } from './plan.js'

/** What the kubelet did, as it did it. */
export type KubeletEvent = 'sigterm' | 'sigkill'

/**
 * Terminates `process` as the kubelet would for a Pod deleted now; calls `onEvent` when it sends a
 * signal. Resolves once the process has exited.
 */
export async function terminatePod (plan: TerminationPlan, process: Child, onEvent: (event: KubeletEvent) => void): Promise<void> {
  const start = performance.now()
  const exited = process.exited.then(() => true)
  const until = (ms: number): Promise<boolean> => Promise.race([exited, sleep(Math.max(0, start + ms - performance.now())).then(() => false)])
  // preStop: the container keeps running and serving; nothing is signalled yet.
  if (await until(plan.sigtermAtMs)) return
  process.signal('SIGTERM')
  onEvent('sigterm')
  if (await until(plan.killAtMs)) return
  process.signal('SIGKILL')
  onEvent('sigkill')
  await exited
}
