/**
 * A value read from somewhere that may not answer yet (the API server at start): read in the
 * background until it succeeds, with backoff, and a fallback in the meantime.
 */
import type { Logger } from 'pino'

/** The value as known now, and why the server is not ready while it is still unknown. */
export interface Eventually<T> {
  value(): T
  notReady(): string[]
}

/** How `eventually` reads, waits and explains itself. */
export interface EventuallyOptions<T> {
  readonly read: () => Promise<T>
  readonly fallback: T
  /** The readiness reason while the value is unknown. */
  readonly pending: string
  readonly logger: Logger
  readonly initialDelayMs?: number
  readonly maxDelayMs?: number
}

/** Starts reading at once; retries from `initialDelayMs` (1 s) doubling to `maxDelayMs` (30 s). */
export function eventually<T> (options: EventuallyOptions<T>): Eventually<T> {
  const { read, fallback, pending, logger, maxDelayMs = 30_000 } = options
  let known: { value: T } | undefined
  let delay = options.initialDelayMs ?? 1000
  const attempt = (): void => {
    read().then(value => { known = { value } }, (err: unknown) => {
      logger.warn({ err, retryInMs: delay }, `${pending}; retrying`)
      // Unref'd: a pending retry must not keep a stopping process alive.
      setTimeout(attempt, delay).unref()
      delay = Math.min(delay * 2, maxDelayMs)
    })
  }
  attempt()
  return {
    value: () => known === undefined ? fallback : known.value,
    notReady: () => known === undefined ? [pending] : []
  }
}
