/**
 * The JSONPatch between the object the API server sent and the mutated one.
 * A diff, not hand-written operations: `compare` creates missing parents and escapes `/` and `~`.
 */
import jsonPatch from 'fast-json-patch'
import type { Operation } from 'fast-json-patch'

export type { Operation }

/**
 * The operations that turn `original` into `mutated`; empty when they are equal. `compare` returns
 * at once on a subtree both sides hold by the same reference, and mutate.ts copies only what it
 * changes, so the cost follows the change, not the size of the Pod.
 */
export function diff (original: object, mutated: object): Operation[] {
  return jsonPatch.compare(original, mutated)
}

/** The patch as the AdmissionResponse carries it: base64 of the JSON array. */
export function encodePatch (operations: readonly Operation[]): string {
  return Buffer.from(JSON.stringify(operations)).toString('base64')
}
