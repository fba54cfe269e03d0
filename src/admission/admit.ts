/**
 * From a parsed AdmissionReview to the AdmissionReview answered. One place (`respond`) builds every
 * response, always with uid, apiVersion and kind; `patchType` only with a patch, as the API server
 * requires (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response).
 * A bug of ours answers `allowed` with no patch and a warning: it never blocks a Pod. A namespace that
 * cannot be read is not a bug of ours but "cannot decide": HTTP 500, so that the API server applies
 * the operator's `failurePolicy` (Ignore admits the Pod unchanged, Fail refuses it).
 */
import { ADMISSION_API_VERSION, type ParsedReview } from './review.js'
import { decide } from './decide.js'
import { diff, encodePatch } from './patch.js'
import { capWarnings } from './warnings.js'
import { reviewWorkload } from './workload.js'
import type { PolicyLimits } from './policy.js'
import type { NamespaceInfo, NamespaceLookup } from './types.js'

/** The AdmissionReview lameduck answers with. */
export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION
  kind: 'AdmissionReview'
  response: {
    uid: string
    allowed: true
    patchType?: 'JSONPatch'
    patch?: string
    warnings?: string[]
  }
}

/**
 * What happened, for the decision's log line and metrics: `error` is a bug of ours (admitted
 * unchanged), `unavailable` an infrastructure failure (answered 500).
 */
export interface Outcome {
  readonly decision: 'mutate' | 'skip' | 'error' | 'unavailable'
  readonly reason: string
  readonly patchBytes: number
  readonly warnings: number
  readonly error?: unknown
}

/**
 * A Kubernetes Status: for an error answer, the API server's client reads the message of a Status
 * (of JSON of any other shape only "unknown") into the error kubectl shows
 * (k8s.io/client-go/rest, `Result.Error`).
 */
export interface FailureStatus {
  readonly apiVersion: 'v1'
  readonly kind: 'Status'
  readonly status: 'Failure'
  readonly code: 500
  readonly reason: 'InternalError'
  readonly message: string
}

/** The answer: an AdmissionReview (HTTP 200), or a short Status without internals (HTTP 500). */
export type Admission =
  | { readonly status: 200, readonly body: AdmissionReviewResponse, readonly outcome: Outcome }
  | { readonly status: 500, readonly body: FailureStatus, readonly outcome: Outcome }

/** What admitting a Pod needs: the namespaces and the server's policy settings. */
export interface AdmissionDeps {
  readonly namespaces: NamespaceLookup
  readonly limits: PolicyLimits
  readonly excludeNamespaces: ReadonlySet<string>
  /** Advice warnings on workloads (advice.ts); on unless false (`--no-advice`). */
  readonly advice?: boolean
}

/**
 * The API server may cut warnings over 256 characters
 * (https://kubernetes.io/blog/2020/09/03/warnings/#admission-webhooks); ours are shorter, but a quoted
 * annotation value could make one longer, so cut it ourselves and say so.
 */
const MAX_WARNING = 256
const WARNING_PREFIX = 'lameduck: '

function tidyWarning (text: string): string {
  const warning = WARNING_PREFIX + text
  return warning.length <= MAX_WARNING ? warning : `${warning.slice(0, MAX_WARNING - 1)}…`
}

/** Builds every AdmissionReview lameduck answers with. */
export function respond (uid: string, patch: string | undefined, warnings: readonly string[]): AdmissionReviewResponse {
  const response: AdmissionReviewResponse['response'] = { uid, allowed: true }
  if (patch !== undefined) {
    response.patchType = 'JSONPatch'
    response.patch = patch
  }
  if (warnings.length > 0) response.warnings = capWarnings(warnings.map(tidyWarning), WARNING_PREFIX)
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response }
}

/** The namespace could not be read (`NamespaceLookup.get` rejected): lameduck cannot decide. */
function unavailable (review: ParsedReview, error: unknown): Admission {
  return {
    status: 500,
    body: { apiVersion: 'v1', kind: 'Status', status: 'Failure', code: 500, reason: 'InternalError', message: `lameduck cannot decide: namespace "${review.namespace}" could not be read from the API server` },
    outcome: { decision: 'unavailable', reason: 'namespace unavailable', patchBytes: 0, warnings: 0, error }
  }
}

async function decideReview (review: ParsedReview, deps: AdmissionDeps): Promise<Admission> {
  const skipped = (reason: string, warnings: readonly string[]): Admission => ({
    status: 200,
    body: respond(review.uid, undefined, warnings),
    outcome: { decision: 'skip', reason, patchBytes: 0, warnings: warnings.length }
  })
  if (review.pod === undefined && review.workload === undefined) return skipped(review.notForUs!, [])
  let namespace: NamespaceInfo | undefined
  if (!deps.excludeNamespaces.has(review.namespace)) {
    try {
      namespace = await deps.namespaces.get(review.namespace)
    } catch (error) {
      return unavailable(review, error)
    }
  }
  if (review.workload !== undefined) {
    const { reason, warnings } = reviewWorkload({
      workload: review.workload,
      namespaceName: review.namespace,
      namespace,
      limits: deps.limits,
      excludeNamespaces: deps.excludeNamespaces,
      advice: deps.advice !== false
    })
    return skipped(reason, warnings)
  }
  const pod = review.pod!
  const decision = decide({
    pod,
    namespaceName: review.namespace,
    namespace,
    limits: deps.limits,
    excludeNamespaces: deps.excludeNamespaces
  })
  if (decision.action === 'skip') return skipped(decision.reason, decision.warnings)
  const operations = diff(pod, decision.pod)
  if (operations.length === 0) return skipped('already injected', decision.warnings)
  const patch = encodePatch(operations)
  return {
    status: 200,
    body: respond(review.uid, patch, decision.warnings),
    outcome: { decision: 'mutate', reason: `containers ${decision.containers.join(',')}`, patchBytes: patch.length, warnings: decision.warnings.length }
  }
}

/**
 * Answers a parsed review. Never throws: an error of ours admits the Pod unchanged, with a warning;
 * a namespace that cannot be read is answered 500.
 */
export async function admit (review: ParsedReview, deps: AdmissionDeps): Promise<Admission> {
  try {
    return await decideReview(review, deps)
  } catch (error) {
    return {
      status: 200,
      body: respond(review.uid, undefined, ['internal error; the Pod was admitted unchanged (see the webhook log)']),
      outcome: { decision: 'error', reason: 'internal error', patchBytes: 0, warnings: 1, error }
    }
  }
}
