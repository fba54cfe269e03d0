/**
 * `lameduck check --scenario`: how the check stops the Deployment's Pods. `restart` (the default) is
 * what `kubectl rollout restart` does (run.ts). `scale-in` scales the Deployment to 1 replica, as an
 * HPA scaling in does, and scales it back to what it was afterwards — also when the check fails or
 * is interrupted (`withRestore`). `evict` evicts its Pods one at a time through the Eviction API
 * (policy/v1), as `kubectl drain`, Karpenter or the descheduler do: a 429 from a
 * PodDisruptionBudget means "not now", so it waits and tries again; the Deployment replaces each
 * evicted Pod, and nothing needs restoring.
 */
import type { V1Deployment } from '@kubernetes/client-node'
import { ConfigError } from '../common/flags.js'
import { rolloutState, type WaitState } from './rollout.js'

/** The scenarios, `restart` first: the default. */
export const CHECK_SCENARIOS = ['restart', 'scale-in', 'evict'] as const
export type CheckScenario = typeof CHECK_SCENARIOS[number]

/** `--scenario`'s value; a ConfigError naming the good ones. */
export function parseCheckScenario (text: string): CheckScenario {
  if ((CHECK_SCENARIOS as readonly string[]).includes(text)) return text as CheckScenario
  throw new ConfigError(`--scenario must be one of ${CHECK_SCENARIOS.join(', ')}, not ${JSON.stringify(text)}`)
}

/**
 * What an eviction came to: done, refused for now by a PodDisruptionBudget (429), or the Pod was already gone (404).
 */
export type EvictionOutcome = 'evicted' | 'blocked' | 'gone'

/** The cluster calls a scenario makes, besides those of run.ts's CheckCluster. */
export interface ScenarioCluster {
  readDeployment(namespace: string, name: string): Promise<V1Deployment>
  patchDeployment(namespace: string, name: string, patch: object): Promise<V1Deployment>
  listPods(
    namespace: string,
    labelSelector: string
  ): Promise<Array<{ metadata?: { name?: string, deletionTimestamp?: Date } }>>
  /** POST pods/NAME/eviction (policy/v1). */
  evictPod?(namespace: string, name: string): Promise<EvictionOutcome>
}

/** What runCheck hands the scenario: the Deployment as read, its Pods' selector, and its wait. */
export interface DisruptContext {
  deployment: V1Deployment
  podSelector: string
  wait (what: string, read: () => Promise<WaitState>): Promise<void>
}

/**
 * A scenario for runCheck: the step that replaces the restart (none for `restart`), and how to undo what it changed.
 */
export interface ScenarioHook {
  disrupt?: (ctx: DisruptContext) => Promise<void>
  restore (): Promise<void>
}

/** The hook of `scenario` for deployment `namespace/name`; `log` as runCheck's. */
export function scenarioHook (
  scenario: CheckScenario,
  target: { namespace: string, deployment: string },
  cluster: ScenarioCluster,
  env: { log(line: string): void }
): ScenarioHook {
  const { namespace, deployment: name } = target
  const read = async (): Promise<WaitState> => rolloutState(await cluster.readDeployment(namespace, name))
  if (scenario === 'scale-in') {
    let original: number | undefined
    return {
      async disrupt ({ deployment, wait }) {
        const replicas = deployment.spec?.replicas ?? 1
        if (replicas < 2)
          throw new Error(
            `deployment ${namespace}/${name} has ${replicas} replica: a scale-in to 1 stops no Pod; scale it up first, or use --scenario restart`
          )
        await cluster.patchDeployment(namespace, name, { spec: { replicas: 1 } })
        original = replicas
        env.log(
          `scaled deployment ${namespace}/${name} from ${replicas} replicas to 1 (as an HPA scaling in); it is scaled back at the end`
        )
        await wait(`deployment ${name} to scale in`, read)
      },
      async restore () {
        if (original === undefined) return
        const replicas = original
        original = undefined
        await cluster.patchDeployment(namespace, name, { spec: { replicas } })
        env.log(`scaled deployment ${namespace}/${name} back to ${replicas} replicas`)
      }
    }
  }
  if (scenario === 'evict') {
    return {
      async disrupt ({ podSelector, wait }) {
        const evictPod = cluster.evictPod
        if (evictPod === undefined) throw new Error('this cluster connection cannot evict Pods')
        const pods = (await cluster.listPods(namespace, podSelector))
          .filter(p => p.metadata?.deletionTimestamp === undefined)
          .map(p => p.metadata?.name ?? '')
        for (const pod of pods) {
          // Tried again at each of the wait's polls until the budget allows it, within the check's --timeout.
          await wait(`a PodDisruptionBudget to allow evicting ${pod}`, async () => {
            const outcome = await evictPod(namespace, pod)
            if (outcome === 'blocked')
              return {
                done: false,
                message: `eviction of ${pod} refused for now by a PodDisruptionBudget (429); trying again`
              }
            return {
              done: true,
              message: outcome === 'evicted' ? `evicted ${pod} (policy/v1 Eviction)` : `${pod} was already gone`
            }
          })
        }
        await wait(`deployment ${name} to replace the evicted Pods`, read)
      },
      restore: async () => {}
    }
  }
  return { restore: async () => {} }
}

/** The parts of `process` withRestore uses; tests pass their own. */
export interface SignalTarget {
  once (signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
  off (signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
  exit (code: number): void
}

/**
 * Runs `work`, then `restore` — also when `work` fails, and on Ctrl-C or SIGTERM meanwhile (then
 * exits 130, after restoring), so that what a check changed in the user's cluster is put back.
 */
export async function withRestore<T> (
  restore: () => Promise<void>,
  work: () => Promise<T>,
  log: (line: string) => void,
  proc: SignalTarget = process
): Promise<T> {
  const onSignal = (): void => {
    log('interrupted: putting back what the check changed')
    restore()
      .catch((err: unknown) => {
        log(`could not put it back: ${err instanceof Error ? err.message : String(err)}`)
      })
      .finally(() => {
        proc.exit(130)
      })
  }
  proc.once('SIGINT', onSignal)
  proc.once('SIGTERM', onSignal)
  try {
    return await work()
  } finally {
    proc.off('SIGINT', onSignal)
    proc.off('SIGTERM', onSignal)
    await restore()
  }
}
