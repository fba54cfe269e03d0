/**
 * `lameduck check --measure`'s own change to the Deployment: a long pause for its Pods, set as the
 * Pod-template annotation `lameduck.dev/prestop-sleep` (a Pod's annotation overrides its
 * namespace's: docs/configuration.md), and the patch that puts back exactly what was there. Removing the
 * override is itself the rollout that is measured: its old Pods are the ones with the long pause.
 * Pure.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION, SLEEP_ANNOTATION } from '../admission/keys.js'

/** The measuring pause unless `--measure-sleep` says otherwise: longer than most load balancers' delay. */
export const DEFAULT_MEASURE_SLEEP_SECONDS = 60

/** The template's own `prestop-sleep` annotation before the override (undefined: it had none). */
export function templateSleep (d: V1Deployment): string | undefined {
  return d.spec?.template.metadata?.annotations?.[SLEEP_ANNOTATION]
}

/** The merge patch that sets the override. */
export function overridePatch (sleepSeconds: number): object {
  return { spec: { template: { metadata: { annotations: { [SLEEP_ANNOTATION]: `${sleepSeconds}s` } } } } }
}

/** The merge patch that restores the template's annotation: its old value, or none (null deletes a key). */
export function restorePatch (original: string | undefined): object {
  return { spec: { template: { metadata: { annotations: { [SLEEP_ANNOTATION]: original ?? null } } } } }
}

/**
 * Throws unless every running Pod got the measuring pause from lameduck: otherwise the Pods would
 * stop at once and the measure would see only the time to their exit.
 */
export function checkOverrideApplied (pods: readonly V1Pod[], sleepSeconds: number): void {
  const wanted = `sleep=${sleepSeconds}s`
  const without = pods.filter(p => p.metadata?.deletionTimestamp === undefined)
    .filter(p => !(p.metadata?.annotations?.[INJECTED_ANNOTATION] ?? '').split(' ').includes(wanted))
  if (without.length === 0) return
  const seen = without.map(p => `${p.metadata?.name ?? ''}: ${p.metadata?.annotations?.[INJECTED_ANNOTATION] ?? 'not injected'}`).join('; ')
  throw new Error(`the Pods did not get the measuring pause ${wanted} from lameduck (${seen}): is the namespace opted in (${INJECT_LABEL}=${INJECT_ENABLED}) and lameduck installed, and is --measure-sleep under its --max-sleep?`)
}
