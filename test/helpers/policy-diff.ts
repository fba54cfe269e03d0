/**
 * How the differential test compares the webhook with the policies: the Pods as stored, without
 * what differs between any two creates (name, uid, times, the service-account volume's random
 * suffix), and the warnings, with the intended differences of docs/policy.md applied.
 */
import { formatDuration } from '../../src/admission/duration.js'
import { decide } from '../../src/admission/decide.js'
import { INJECT_DISABLED, INJECT_ENABLED, INJECT_LABEL, INJECTED_ANNOTATION, MIRROR_ANNOTATION } from '../../src/admission/keys.js'
import { containersNamed } from '../../src/admission/names.js'
import { LAST_APPLIED_ANNOTATION, ownGrace } from '../../src/admission/own-grace.js'
import { computeGrace, DEFAULT_GRACE, resolveSettings, type PolicyLimits } from '../../src/admission/policy.js'
import { isNginxImage } from '../../src/admission/prestop.js'
import type { Pod } from '../../src/admission/pod.js'

const POLICY_PREFIX = /^Validation failed for ValidatingAdmissionPolicy '[^']+' with binding '[^']+': /

/** Metadata that the API server gives each create of its own. */
const IDENTITY = ['name', 'uid', 'creationTimestamp', 'resourceVersion', 'managedFields', 'namespace']

/** The stored Pod as a new create: the same object, without its identity, to be admitted again. */
export function recreate (pod: Pod): Pod {
  const metadata = Object.fromEntries(Object.entries(pod.metadata ?? {}).filter(([key]) => !IDENTITY.includes(key)))
  return { ...pod, metadata }
}

/**
 * The stored Pod without what two creates of the same Pod never share (also the service-account volume's random
 * suffix).
 */
export function comparable (pod: Pod): Pod {
  return recreate(JSON.parse(JSON.stringify(pod).replace(/"kube-api-access-[a-z0-9]{5}"/g, '"kube-api-access"')) as Pod)
}

/** The policy's warnings as the API server wrote them: UTF-8 in a header, which fetch reads as Latin-1. */
export const policyWarnings = (warnings: readonly string[]): string[] => warnings.map(w => Buffer.from(w.replace(POLICY_PREFIX, ''), 'latin1').toString('utf8')).sort()

/** What the policy's fit.ts reads of a last-applied text: it may set the grace period. */
const MAY_NAME_GRACE = /terminationGracePeriodSeconds|\\u00[4-7][0-9A-Fa-f]/

/** What the bindings and match conditions leave out never reaches the policies. */
const matched = (stored: Pod): boolean =>
  [undefined, 'Always'].includes(stored.spec.restartPolicy) &&
  stored.metadata?.annotations?.[MIRROR_ANNOTATION] === undefined &&
  stored.metadata?.labels?.[INJECT_LABEL] !== INJECT_DISABLED

/** True when the Pod's handler is `adaptive`: the policy leaves it to the webhook, unchanged (docs/policy.md). */
export function leftToWebhook (
  stored: Pod,
  namespaceAnnotations: Record<string, string>,
  limits: PolicyLimits
): boolean {
  return (
    matched(stored) &&
    resolveSettings(stored.metadata?.annotations, namespaceAnnotations, limits).handler === 'adaptive'
  )
}

/** The policy's own warning for such a Pod. */
export const ADAPTIVE_LEFT = 'lameduck.dev/prestop-handler adaptive needs lameduck\'s webhook (lameduck serve), which brings the pause\'s program; this policy leaves the Pod unchanged'

/**
 * True when the policy cannot tell whether a bare Pod's grace period of 30 is its manifest's own
 * (kubectl's last-applied text names the field, or the Pod was applied server-side) and it matters
 * (sleep + budget over 30): the policy then leaves the Pod unchanged (docs/policy.md).
 */
export function undecided (stored: Pod, namespaceAnnotations: Record<string, string>, limits: PolicyLimits): boolean {
  const settings = resolveSettings(stored.metadata?.annotations, namespaceAnnotations, limits)
  const controlled =
    (stored.metadata?.ownerReferences as Array<{ controller?: boolean }> | undefined)?.some(
      o => o.controller === true
    ) === true
  const lastApplied = stored.metadata?.annotations?.[LAST_APPLIED_ANNOTATION] ?? ''
  const applied = (stored.metadata?.managedFields as Array<{ operation?: string }> | undefined)?.some(e => e.operation === 'Apply') === true
  return matched(stored) && !controlled && stored.spec.terminationGracePeriodSeconds === DEFAULT_GRACE &&
    (settings.sleep + settings.budget > DEFAULT_GRACE || settings.sleep >= DEFAULT_GRACE) &&
    (MAY_NAME_GRACE.test(lastApplied) || applied)
}

/**
 * The warnings the policy should give for the Pod it stored. The warnings policy sees the mutated Pod
 * only, as the webhook would on a second pass: so the expected ones are decide()'s on the stored Pod,
 * and
 * - a grace period lameduck set (not the default 30, not a bare Pod's own) is told as "set to G";
 * - the nginx advice covers every nginx container with lameduck's sleep, also one that had it already;
 * - a Pod the policy cannot decide (`undecided`) gets the annotations' warnings and the policy's own;
 * - so does a Pod it leaves to the webhook (`leftToWebhook`: the adaptive handler).
 */
export function expectedPolicyWarnings (
  stored: Pod,
  namespaceAnnotations: Record<string, string>,
  limits: PolicyLimits
): string[] {
  const settings = resolveSettings(stored.metadata?.annotations, namespaceAnnotations, limits)
  if (leftToWebhook(stored, namespaceAnnotations, limits)) {
    // The policy reads neither the adaptive pause's annotations nor its limits.
    return [
      ...settings.warnings.filter(w => !/^adaptive pause maximum |lameduck\.dev\/adaptive-/.test(w)),
      ADAPTIVE_LEFT
    ].sort()
  }
  if (undecided(stored, namespaceAnnotations, limits)) {
    return [
      ...settings.warnings,
      `preStop sleep ${formatDuration(settings.sleep)} + shutdown budget ${formatDuration(settings.budget)} does not fit under terminationGracePeriodSeconds 30, which this Pod's own manifest may set (its ${LAST_APPLIED_ANNOTATION} or server-side apply); the policy cannot read which, so the Pod is left unchanged (the webhook can)`
    ].sort()
  }
  const decision = decide({
    pod: stored,
    namespaceName: 'ns',
    namespace: { name: 'ns', labels: { [INJECT_LABEL]: INJECT_ENABLED }, annotations: namespaceAnnotations },
    limits,
    excludeNamespaces: new Set()
  })
  const expected = [...decision.warnings]
  if (decision.action === 'skip') return expected.sort()
  const grace = decision.grace
  const own = ownGrace(stored, false)
  const fitted = own !== undefined && own >= 2 && (settings.sleep + settings.budget > own || settings.sleep >= own)
  const floor = computeGrace(0, settings.sleep, settings.budget, limits.maxGrace)
  // Hooked, at --max-grace with the sleep as resolved: maybe lameduck's raise, told as capped.
  const told = fitted && !(own === limits.maxGrace && settings.sleep < own)
  if (fitted && !told) {
    expected.splice(
      expected.findIndex(w => w.startsWith(`terminationGracePeriodSeconds ${own} is set by`)),
      1,
      `preStop sleep ${formatDuration(settings.sleep)} + shutdown budget ${formatDuration(settings.budget)} is over the server's limit; terminationGracePeriodSeconds capped at ${limits.maxGrace} (--max-grace)`
    )
  }
  if (!told && grace === floor && grace !== DEFAULT_GRACE) {
    expected.push(
      `terminationGracePeriodSeconds set to ${grace} (preStop sleep ${formatDuration(settings.sleep)} + shutdown budget ${formatDuration(settings.budget)})`
    )
  }
  const marker = decision.pod.metadata!.annotations![INJECTED_ANNOTATION]!
  const nginx = decision.pod.spec.containers
    .filter(c => decision.containers.includes(c.name) && isNginxImage(c.image))
    .map(c => c.name)
  if (marker.includes(' handler=sleep ') && nginx.length > 0) {
    const runs = nginx.length === 1 ? 'runs' : 'run'
    expected.push(
      `${containersNamed(nginx)} ${runs} nginx: unless its image's STOPSIGNAL is SIGQUIT, SIGTERM cuts requests in flight; set lameduck.dev/prestop-handler: exec to drain nginx`
    )
  }
  return expected.sort()
}
