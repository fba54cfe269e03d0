/**
 * What a server-side dry run of a Pod says about lameduck: the Pod the API server would store, read
 * for the three things lameduck adds (the preStop hook, the grace period that covers it, the
 * `lameduck.dev/injected` marker), and when they are missing, the likeliest reasons. Pure.
 */
import { INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION } from '../admission/keys.js'

/** A container's preStop hook, as the API server returns it. */
interface PreStop {
  readonly sleep?: { readonly seconds?: number }
  readonly exec?: { readonly command?: readonly string[] }
}

/** The part of a Pod read here. */
export interface DryRunPod {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> }
  readonly spec?: {
    readonly terminationGracePeriodSeconds?: number
    readonly containers?: ReadonlyArray<{ readonly name?: string, readonly lifecycle?: { readonly preStop?: PreStop } }>
  }
}

/** The dry-run Pod: one regular container, no hook and no grace period of its own. */
export function probePod (): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'lameduck-verify-', labels: { 'app.kubernetes.io/name': 'lameduck-verify' } },
    spec: { containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }] }
  }
}

/** What Pods created now would get, when the dry-run Pod came back mutated. */
export interface Mutated {
  readonly marker: string
  readonly preStop: string
  readonly grace: number
}

/** The mutation of `pod`, or undefined when the marker, the hook or the grace period is missing. */
export function mutationOf (pod: DryRunPod): Mutated | undefined {
  const marker = pod.metadata?.annotations?.[INJECTED_ANNOTATION]
  const preStop = pod.spec?.containers?.[0]?.lifecycle?.preStop
  const grace = pod.spec?.terminationGracePeriodSeconds
  if (marker === undefined || preStop === undefined || grace === undefined) return undefined
  const hook = preStop.sleep?.seconds !== undefined
    ? `sleep ${preStop.sleep.seconds}s (the native sleep action)`
    : `exec ${JSON.stringify(preStop.exec?.command ?? [])}`
  return { marker, preStop: hook, grace }
}

/** Lines for a mutated dry run. */
export function describeMutated (namespace: string, mutated: Mutated): string[] {
  return [
    `Pods created in namespace ${namespace} now are mutated by lameduck (a server-side dry run of a Pod):`,
    `  preStop   ${mutated.preStop}`,
    `  grace     terminationGracePeriodSeconds ${mutated.grace}`,
    `  marker    ${INJECTED_ANNOTATION}: ${mutated.marker}`
  ]
}

/** What could be read about why a dry run came back unchanged; undefined where it could not be read. */
export interface Clues {
  /** The namespace's labels, or 'absent'. */
  readonly labels?: Readonly<Record<string, string>> | 'absent'
  /** The webhook configuration: absent, or whether its webhooks have a caBundle. */
  readonly webhook?: 'absent' | 'no caBundle' | 'present'
}

/** The likeliest reasons a Pod came back unchanged, or was refused (`refused`: the API server's message). */
export function reasons (namespace: string, clues: Clues, webhookName: string, refused?: string): string[] {
  const found: string[] = refused === undefined ? [] : [`the API server refused it: ${refused}`]
  if (clues.labels === 'absent') found.push(`namespace ${namespace} does not exist`)
  else if (clues.labels !== undefined && clues.labels[INJECT_LABEL] !== INJECT_ENABLED) {
    found.push(`the namespace is not opted in: kubectl label namespace ${namespace} ${INJECT_LABEL}=${INJECT_ENABLED}`)
  }
  const configuration = `MutatingWebhookConfiguration ${webhookName}`
  if (clues.webhook === 'absent') found.push(`${configuration} does not exist: is lameduck installed?`)
  if (clues.webhook === 'no caBundle') {
    const why = 'lameduck\'s replicas have not made their certificates (see their Pods and logs)'
    found.push(`${configuration} has no caBundle yet: ${why}`)
  }
  if (found.length === 0) {
    found.push('the API server got no answer from lameduck and let the Pod through (failurePolicy Ignore): ' +
      'are its replicas Ready? The API server\'s apiserver_admission_webhook_fail_open_count counts such calls')
  }
  return found
}
