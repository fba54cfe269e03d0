/**
 * The JSONPatch between the object the API server sent and the mutated one.
 * STYLE.md: diff, don't hand-write: `compare` creates missing parents and escapes `/` and `~`.
 */
import jsonPatch from 'fast-json-patch'
import type { Operation } from 'fast-json-patch'

export type { Operation }

/** Stands in for a subtree both sides share: equal on both sides, so `compare` passes over it. */
const SHARED = 0

type Node = Record<string, unknown> | unknown[]

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null

/**
 * `a` and `b` with every subtree they hold by the same reference at the same place replaced by
 * SHARED, keeping each side's own key order (the order of `compare`'s operations follows it). Only
 * where both sides are objects of the same kind does it go deeper, exactly where `compare` would; a
 * value that only one side has is kept whole, since `compare` copies it into the patch.
 */
function withoutShared (a: Node, b: Node): [Node, Node] {
  // Spread copies own keys as data properties, so a key named __proto__ stays an own key, as JSON.parse made it.
  const prunedA = (Array.isArray(a) ? [...a] : { ...a }) as Record<string, unknown>
  const prunedB = (Array.isArray(b) ? [...b] : { ...b }) as Record<string, unknown>
  for (const key of Object.keys(prunedA)) {
    const va = prunedA[key]
    const vb = prunedB[key]
    if (!isNode(va) || !isNode(vb) || !Object.hasOwn(prunedB, key)) continue
    if (va === vb) {
      prunedA[key] = SHARED
      prunedB[key] = SHARED
    } else if (Array.isArray(va) === Array.isArray(vb)) {
      [prunedA[key], prunedB[key]] = withoutShared(va, vb)
    }
  }
  return [prunedA, prunedB]
}

/**
 * The operations that turn `original` into `mutated`; empty when they are equal. The same patch as
 * `compare(original, mutated)`, but what the two share by reference (mutate.ts copies only what it
 * changes) is not walked, so the cost follows the change, not the size of the Pod.
 */
export function diff (original: object, mutated: object): Operation[] {
  if (original === mutated) return []
  if (Array.isArray(original) !== Array.isArray(mutated)) return jsonPatch.compare(original, mutated)
  const [a, b] = withoutShared(original as Node, mutated as Node)
  return jsonPatch.compare(a, b)
}

/** The patch as the AdmissionResponse carries it: base64 of the JSON array. */
export function encodePatch (operations: readonly Operation[]): string {
  return Buffer.from(JSON.stringify(operations)).toString('base64')
}

/** Applies `operations` to a copy of `document`, validating each; throws when one does not apply. */
export function applyPatch<T> (document: T, operations: readonly Operation[]): T {
  return jsonPatch.applyPatch(structuredClone(document), [...operations], true, false).newDocument
}
