/**
 * How a check stops the Deployment's old Pods, chosen once per run: a restart, as `kubectl rollout
 * restart` does; a scenario's own step (a scale-in, evictions: scenario.ts); or, measuring
 * (measure.ts), the removal of the long pause the Pods were first given by a rollout of its own.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { SLEEP_ANNOTATION } from '../admission/keys.js'
import { checkOverrideApplied, overridePatch, restorePatch, templateSleep } from './measure.js'
import { oldPodsGone, restartPatch, rolloutState, type WaitState } from './rollout.js'
import type { DisruptContext } from './scenario.js'
import type { Wait } from './wait.js'

/** The steps of one way of stopping the old Pods. */
export interface Stopping {
  /** Before the load starts (measuring: the long pause, and the rollout that gives it to the Pods). */
  prepare (): Promise<void>
  /** Stops the old Pods; resolves once the Deployment has rolled out, when it was what rolled it. */
  stop (): Promise<void>
  /** After a failure: puts back what `prepare` changed and `stop` did not. */
  undo (): Promise<void>
}

/** What stopping needs of the cluster (run.ts's CheckCluster has it). */
export interface StoppingCluster {
  readDeployment (namespace: string, name: string): Promise<V1Deployment>
  listPods (namespace: string, labelSelector: string): Promise<V1Pod[]>
  /** Sends a merge patch; resolves with the patched Deployment. */
  patchDeployment (namespace: string, name: string, patch: object): Promise<V1Deployment>
}

/** The run as stopping sees it. */
export interface StoppingContext {
  readonly namespace: string
  /** The Deployment's name, its object as first read, and the selector of its Pods. */
  readonly name: string
  readonly deployment: V1Deployment
  readonly podSelector: string
  readonly cluster: StoppingCluster
  readonly wait: Wait
  log (line: string): void
  now (): number
}

/** How the run asks for the Pods to be stopped (run.ts's CheckOptions has it). */
export interface StoppingChoice {
  readonly measureSleepSeconds?: number
  readonly disrupt?: (ctx: DisruptContext) => Promise<void>
}

/** `--measure`'s pause, else a scenario's step, else a restart. */
export function chooseStopping (ctx: StoppingContext, how: StoppingChoice): Stopping {
  if (how.measureSleepSeconds !== undefined) return measuring(ctx, how.measureSleepSeconds)
  const disrupt = how.disrupt
  if (disrupt !== undefined) return { prepare: nothing, stop: async () => { await disrupt(ctx) }, undo: nothing }
  return { prepare: nothing, stop: async () => { await restart(ctx) }, undo: nothing }
}

/** A restart or a scenario's step changes nothing before the load; nothing to undo (a scenario restores its own). */
const nothing = async (): Promise<void> => {}

/** Waits until the Deployment has rolled out. */
async function rolledOut (ctx: StoppingContext): Promise<void> {
  const { name } = ctx
  const read = async (): Promise<WaitState> => rolloutState(await ctx.cluster.readDeployment(ctx.namespace, name))
  await ctx.wait(`deployment ${name} to roll out`, read)
}

/** `kubectl rollout restart`, and its rollout. */
async function restart (ctx: StoppingContext): Promise<void> {
  const { name } = ctx
  const restarted = await ctx.cluster.patchDeployment(ctx.namespace, name, restartPatch(new Date(ctx.now())))
  ctx.log(`restarted deployment ${ctx.namespace}/${name} (generation ${restarted.metadata?.generation ?? '?'})`)
  await rolledOut(ctx)
}

/**
 * The long pause as a temporary override on the Pod template, rolled out before the load starts;
 * its removal is the rollout measured (a restart when the template had that value already).
 */
function measuring (ctx: StoppingContext, seconds: number): Stopping {
  const { namespace, name, cluster } = ctx
  const original = templateSleep(ctx.deployment)
  let changed = false
  return {
    async prepare () {
      const annotation = `${SLEEP_ANNOTATION}=${seconds}s${original === undefined ? '' : `, was ${original}`}`
      ctx.log(`measuring: the Pods of deployment ${name} get a ${seconds}s pause, as a temporary override on their ` +
        `template (annotation ${annotation}); a rollout gives it to them, and removing it is the rollout measured`)
      await cluster.patchDeployment(namespace, name, overridePatch(seconds))
      changed = original !== `${seconds}s`
      await rolledOut(ctx)
      const gone = async (): Promise<WaitState> => oldPodsGone(await cluster.listPods(namespace, ctx.podSelector))
      await ctx.wait(`the old Pods of deployment ${name} to exit`, gone)
      checkOverrideApplied(await cluster.listPods(namespace, ctx.podSelector), seconds)
    },
    async stop () {
      if (!changed) return await restart(ctx)
      const restored = await cluster.patchDeployment(namespace, name, restorePatch(original))
      changed = false
      const generation = restored.metadata?.generation ?? '?'
      ctx.log(`put back the template's ${SLEEP_ANNOTATION} (${original ?? 'none'}): deployment ${namespace}/${name} ` +
        `rolls out (generation ${generation})`)
      await rolledOut(ctx)
    },
    async undo () {
      if (changed) await putBack(ctx, original)
    }
  }
}

/** Puts the template's annotation back after a failure; if that fails too, says how to do it by hand. */
async function putBack (ctx: StoppingContext, original: string | undefined): Promise<void> {
  const { name } = ctx
  try {
    await ctx.cluster.patchDeployment(ctx.namespace, name, restorePatch(original))
  } catch (err) {
    const patch = JSON.stringify(restorePatch(original))
    const byHand = `kubectl -n ${ctx.namespace} patch deployment ${name} --type merge -p '${patch}'`
    ctx.log(`could not put back the template's ${SLEEP_ANNOTATION} (${(err as Error).message}); put it back with: ` +
      byHand)
    throw err
  }
  ctx.log(`put back the template's ${SLEEP_ANNOTATION} (${original ?? 'none'}) of deployment ${ctx.namespace}/${name}`)
}
