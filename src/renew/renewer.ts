/**
 * The in-cluster renewal loop of `lameduck serve --renew-certs`: every replica runs it, and each run
 * is the certificate code's own (`renewOnce`, as `lameduck certs --apply` would do it) under the
 * renewal Lease, so one replica writes at a time and the others find nothing left to do. It never
 * touches serving: a run that fails is logged, counted and retried; the webhook keeps answering
 * with the pair it has.
 */
import type { Logger } from 'pino'
import type { RunResult } from '../certs/run.js'
import type { LeaseLock } from './lease.js'
import { DEFAULT_TIMING, nextDelay, type Attempt, type Timing } from './schedule.js'

/** What the renewer counts (src/serve/cert-metrics.ts). */
export interface RenewalMetrics {
  /** A new certificate was written. */
  renewed(certificate: 'serving' | 'ca'): void
  /** A run failed. */
  renewalFailed(): void
}

/** What the renewer is built from. */
export interface RenewerDeps {
  readonly lock: LeaseLock
  /** One run of the certificate code (src/certs/run.ts); `say` gets its progress lines. */
  readonly renew: (say: (line: string) => void) => Promise<RunResult>
  readonly now: () => Date
  readonly logger: Logger
  readonly metrics: RenewalMetrics
  readonly timing?: Timing
}

/** A running renewer. */
export interface Renewer {
  /** Runs now rather than at the next due time (after the run in flight, if any). */
  wake(): void
  /** Stops the timer and waits for a run in flight (it gives the Lease back). */
  close(): Promise<void>
}

/** One attempt: take the Lease, run, give it back. Never throws. */
async function attempt (deps: RenewerDeps, failures: number): Promise<Attempt> {
  const lines: string[] = []
  try {
    if (!await deps.lock.acquire()) {
      deps.logger.debug('certificate renewal: another replica holds the Lease')
      return { kind: 'busy' }
    }
    let result: RunResult
    try {
      result = await deps.renew(line => { lines.push(line) })
    } finally {
      await deps.lock.release()
    }
    if (result.servingNew) deps.metrics.renewed('serving')
    if (result.caNew) deps.metrics.renewed('ca')
    const fields = {
      steps: lines,
      servingExpires: result.serving.notAfter.toISOString(),
      caExpires: result.ca.notAfter.toISOString(),
      next: result.nextRenewal.toISOString()
    }
    if (result.changed) deps.logger.info(fields, 'certificate renewal: done')
    else deps.logger.debug(fields, 'certificate renewal: nothing to do')
    return { kind: 'done', result }
  } catch (err) {
    deps.metrics.renewalFailed()
    deps.logger.error({ err, steps: lines, failures: failures + 1 }, 'certificate renewal failed; the webhook keeps serving its current pair, and retries')
    return { kind: 'failed', failures: failures + 1 }
  }
}

/** Starts the loop: a first run at once, then as `schedule.ts` says. */
export function startRenewer (deps: RenewerDeps): Renewer {
  const timing = deps.timing ?? DEFAULT_TIMING
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let failures = 0
  let running: Promise<void> = Promise.resolve()
  let inFlight = false
  let again = false
  const run = (): void => {
    inFlight = true
    running = attempt(deps, failures).then(outcome => {
      inFlight = false
      failures = outcome.kind === 'failed' ? outcome.failures : 0
      if (closed) return
      const delay = again ? 0 : nextDelay(outcome, deps.now(), timing)
      again = false
      deps.logger.debug({ inSeconds: Math.round(delay / 1000) }, 'certificate renewal: next check')
      timer = setTimeout(run, delay)
    })
  }
  run()
  return {
    wake () {
      if (closed) return
      if (inFlight) { again = true; return }
      clearTimeout(timer)
      run()
    },
    async close () {
      closed = true
      clearTimeout(timer)
      await running
    }
  }
}
