/**
 * When the in-cluster renewer runs next. Pure: from what the last run did and the clock.
 * A run that renewed nothing sleeps until something is due (the serving certificate at two thirds
 * of its validity, the CA before it would stop outliving a new serving certificate, or the end of a
 * CA rotation's overlap), but never longer than `maxIntervalMs`, so that a pair changed by hand or by
 * another replica is looked at again. A failed run is retried with exponential backoff.
 */
import type { RunResult } from '../certs/run.js'

/** How the last attempt ended. */
export type Attempt =
  | { readonly kind: 'done', readonly result: Pick<RunResult, 'nextRenewal' | 'pendingUntil'> }
  /** Another replica holds the Lease. */
  | { readonly kind: 'busy' }
  /** Failed; `failures` in a row, this one included. */
  | { readonly kind: 'failed', readonly failures: number }

/** The renewer's clockwork, in milliseconds. */
export interface Timing {
  /** Longest sleep between two runs. */
  readonly maxIntervalMs: number
  /** Wait after finding the Lease held by another replica (its run takes seconds). */
  readonly busyRetryMs: number
  /** First retry after a failure; doubles with each failure in a row, up to `maxRetryMs`. */
  readonly firstRetryMs: number
  readonly maxRetryMs: number
}

export const DEFAULT_TIMING: Timing = {
  maxIntervalMs: 3_600_000,
  busyRetryMs: 5000,
  firstRetryMs: 5000,
  maxRetryMs: 300_000
}

/** Wakes a little after the due time, so that the run finds the certificate due rather than just short of it. */
export const MARGIN_MS = 1000

/** How long to sleep before the next run. */
export function nextDelay (attempt: Attempt, now: Date, timing: Timing): number {
  switch (attempt.kind) {
    case 'busy':
      return timing.busyRetryMs
    case 'failed':
      return Math.min(timing.firstRetryMs * 2 ** (attempt.failures - 1), timing.maxRetryMs)
    case 'done': {
      const { nextRenewal, pendingUntil } = attempt.result
      const due = Math.min(nextRenewal.getTime(), pendingUntil?.getTime() ?? Infinity)
      return Math.min(Math.max(due - now.getTime(), 0) + MARGIN_MS, timing.maxIntervalMs)
    }
  }
}
