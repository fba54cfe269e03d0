/**
 * How the differential test compares the webhook with the policies: the Pods as stored, without
 * what differs between any two creates (name, uid, times, the service-account volume's random
 * suffix), and the warnings, with the two intended differences of docs/policy.md applied.
 */
import { formatDuration } from '../../src/admission/duration.js'
import { decide } from '../../src/admission/decide.js'
import { INJECT_ENABLED, INJECT_LABEL } from '../../src/admission/keys.js'
import { computeGrace, DEFAULT_GRACE, resolveSettings, type PolicyLimits } from '../../src/admission/policy.js'
import { isNginxImage } from '../../src/admission/prestop.js'
import type { Pod } from '../../src/admission/pod.js'
import { EACH } from '../../src/mutating-policy/warnings.js'

const POLICY_PREFIX = /^Validation failed for ValidatingAdmissionPolicy '[^']+' with binding '[^']+': /
const WEBHOOK_PREFIX = 'lameduck: '

/** Metadata that the API server gives each create of its own. */
const IDENTITY = ['name', 'uid', 'creationTimestamp', 'resourceVersion', 'managedFields', 'namespace']

/** The stored Pod as a new create: the same object, without its identity, to be admitted again. */
export function recreate (pod: Pod): Pod {
  const metadata = Object.fromEntries(Object.entries(pod.metadata ?? {}).filter(([key]) => !IDENTITY.includes(key)))
  return { ...pod, metadata }
}

/** The stored Pod without what two creates of the same Pod never share (also the service-account volume's random suffix). */
export function comparable (pod: Pod): Pod {
  return recreate(JSON.parse(JSON.stringify(pod).replace(/"kube-api-access-[a-z0-9]{5}"/g, '"kube-api-access"')) as Pod)
}

export const policyWarnings = (warnings: readonly string[]): string[] => warnings.map(w => w.replace(POLICY_PREFIX, '')).sort()

/**
 * The warnings the policy should give, from those the webhook gave for the same Pod (`stored` is
 * what both stored). The warnings policy sees the mutated Pod only, so:
 * - "raised from B to G" becomes "set to G", said when G is lameduck's own grace period and not the default 30;
 * - the nginx advice covers every nginx container with lameduck's sleep, also one that had it already;
 * - per-name and per-container warnings after the first EACH of their kind come as one, joined by "; ".
 */
export function expectedPolicyWarnings (webhook: readonly string[], stored: Pod, namespaceAnnotations: Record<string, string>, limits: PolicyLimits): string[] {
  const kept = webhook.map(w => w.startsWith(WEBHOOK_PREFIX) ? w.slice(WEBHOOK_PREFIX.length) : w)
    .filter(w => !w.startsWith('terminationGracePeriodSeconds raised from') && !w.includes('runs nginx, which treats SIGTERM'))
  const settings = resolveSettings(stored.metadata?.annotations, namespaceAnnotations, limits)
  // What carries lameduck's hook: decide on the result (a no-op there) says so; a stale marker does not.
  const decision = decide({ pod: stored, namespaceName: 'ns', namespace: { name: 'ns', labels: { [INJECT_LABEL]: INJECT_ENABLED }, annotations: namespaceAnnotations }, limits, excludeNamespaces: new Set() })
  if (decision.action === 'skip') return joinBeyondEach(kept).sort()
  const hooked = decision.containers
  const grace = stored.spec.terminationGracePeriodSeconds!
  const floor = computeGrace(0, settings.sleep, settings.budget, limits.maxGrace)
  if (grace === floor && grace !== DEFAULT_GRACE) {
    kept.push(`terminationGracePeriodSeconds set to ${grace} (preStop sleep ${formatDuration(settings.sleep)} + shutdown budget ${formatDuration(settings.budget)})`)
  }
  if (settings.handler === 'sleep') {
    for (const c of stored.spec.containers.filter(c => hooked.includes(c.name) && isNginxImage(c.image))) {
      kept.push(`container "${c.name}" runs nginx, which treats SIGTERM as a fast shutdown; set lameduck.dev/prestop-handler: exec for a graceful "nginx -s quit"`)
    }
  }
  return joinBeyondEach(kept).sort()
}

/** The kinds of warning the policy gives one validation per item, up to EACH. */
const PER_ITEM = [/^lameduck\.dev\/containers names /, /^container "[^"]+" already has a preStop hook/, /^container "[^"]+" runs nginx/]

function joinBeyondEach (warnings: string[]): string[] {
  const single = warnings.filter(w => !PER_ITEM.some(kind => kind.test(w)))
  for (const kind of PER_ITEM) {
    const items = warnings.filter(w => kind.test(w))
    single.push(...items.slice(0, EACH))
    if (items.length > EACH) single.push(items.slice(EACH).join('; '))
  }
  return single
}
