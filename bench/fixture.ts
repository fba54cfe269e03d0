/**
 * What both webhooks are measured with: the fixture's namespace, and how an answer is checked. Pure,
 * so that the check is unit-tested: the Go peer's patch must give the fixture's Pod the same preStop
 * hooks, grace period and marker as lameduck's, or the two are not doing the same work.
 */
import jsonPatch, { type Operation } from 'fast-json-patch'
import type { NamespaceInfo } from '../src/admission/types.js'

/** The namespace of the fixture: opted in, with a pause and a budget of its own. */
export const SHOP: NamespaceInfo = { name: 'shop', labels: { 'lameduck.dev/inject': 'enabled' }, annotations: { 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' } }

interface Answer { response?: { uid?: string, allowed?: boolean, patch?: string } }

/** The review's object with the answer's patch applied; an Error says what is wrong with the answer. */
export function patchedObject (review: { request: { uid: string, object: unknown } }, answer: Answer): unknown {
  const response = answer.response
  if (response?.uid !== review.request.uid) return new Error(`the answer's uid ${JSON.stringify(response?.uid)} is not the request's`)
  if (response.allowed !== true) return new Error('the answer does not allow the Pod')
  if (response.patch === undefined) return new Error('the answer has no patch')
  const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[]
  return jsonPatch.applyPatch(structuredClone(review.request.object), operations, true, false).newDocument
}
