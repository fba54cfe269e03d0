/**
 * One Pod, one decision: skipped (and why), or mutated. Shared by the webhook and `preview`.
 * docs/configuration.md, "The rules": what is skipped, and what is explained.
 */
import { INJECT_DISABLED, INJECT_ENABLED, INJECT_LABEL, MIRROR_ANNOTATION } from './keys.js'
import { mutatePod } from './mutate.js'
import { fitUnderGrace, ownGrace } from './own-grace.js'
import { forWindows } from './windows.js'
import { resolveSettings, type PolicyLimits } from './policy.js'
import type { Pod } from './pod.js'
import type { NamespaceInfo } from './types.js'

/** The policy's inputs besides the Pod: its namespace and the server's configuration. */
export interface DecideInput {
  readonly pod: Pod
  /** The namespace's name, from `request.namespace` (a Pod's `metadata.namespace` is often empty). */
  readonly namespaceName: string
  /** The namespace as the cache knows it; undefined when it could not be found. */
  readonly namespace: NamespaceInfo | undefined
  readonly limits: PolicyLimits
  readonly excludeNamespaces: ReadonlySet<string>
  /**
   * What `pod` is: a Pod the API server sent (the default), a Pod manifest as written (preview), or
   * a workload's Pod template, whose Pods a controller makes (own-grace.ts applies to the first two).
   */
  readonly source?: 'admitted' | 'written' | 'template'
}

/** Skipped (no patch), or the mutated Pod; warnings either way. */
export type Decision =
  | { readonly action: 'skip', readonly reason: string, readonly warnings: readonly string[] }
  | { readonly action: 'mutate', readonly pod: Pod, readonly containers: readonly string[], readonly grace: number, readonly warnings: readonly string[] }

/** Why a Pod is not for lameduck, or undefined when it is. The warning, if any, tells the user. */
function skipReason (input: DecideInput): { reason: string, warning?: string } | undefined {
  const { pod, namespaceName, namespace } = input
  const restartPolicy = pod.spec.restartPolicy
  if (restartPolicy === 'Never' || restartPolicy === 'OnFailure') {
    // Jobs serve no traffic, and a native sleep would outlive their process.
    return { reason: `restartPolicy ${restartPolicy}` }
  }
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return { reason: 'mirror Pod' }
  if (pod.metadata?.labels?.[INJECT_LABEL] === INJECT_DISABLED) return { reason: 'Pod opted out' }
  if (input.excludeNamespaces.has(namespaceName)) return { reason: 'namespace excluded' }
  if (namespace === undefined) {
    return { reason: 'namespace unknown', warning: `lameduck could not find namespace "${namespaceName}"; Pod left unchanged` }
  }
  if (namespace.labels[INJECT_LABEL] !== INJECT_ENABLED) {
    // The webhook's namespaceSelector should not have sent it: say so, it is a misconfiguration.
    return { reason: 'namespace not opted in', warning: `namespace "${namespaceName}" is not labeled ${INJECT_LABEL}=${INJECT_ENABLED}; Pod left unchanged` }
  }
  return undefined
}

/** Decides what to do with one Pod and, when it is eligible, mutates a clone of it. */
export function decide (input: DecideInput): Decision {
  const skip = skipReason(input)
  if (skip !== undefined) {
    return { action: 'skip', reason: skip.reason, warnings: skip.warning === undefined ? [] : [skip.warning] }
  }
  const resolved = resolveSettings(input.pod.metadata?.annotations, input.namespace!.annotations, input.limits)
  const own = input.source === 'template' ? undefined : ownGrace(input.pod, input.source === 'written')
  const fitted = own === undefined ? resolved : fitUnderGrace(resolved, own)
  if (fitted instanceof Error) return { action: 'skip', reason: 'own grace period too short', warnings: [...resolved.warnings, fitted.message] }
  const settings = forWindows(input.pod, fitted, input.limits)
  if (settings instanceof Error) return { action: 'skip', reason: 'Windows Pod without a native sleep', warnings: [...fitted.warnings, settings.message] }
  const mutation = mutatePod(input.pod, settings, input.limits.maxGrace, input.limits.pause)
  if (mutation.pod === undefined) {
    return { action: 'skip', reason: 'no eligible container', warnings: mutation.warnings }
  }
  return { action: 'mutate', pod: mutation.pod, containers: mutation.containers, grace: mutation.grace!, warnings: mutation.warnings }
}
