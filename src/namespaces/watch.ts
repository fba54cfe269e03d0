/**
 * Keeps an informer (list + watch, list-watch.ts) running: restarted with backoff after an error,
 * and restarted when silent for too long, in case its connection is half-open. informer.ts builds
 * the cache on top of it.
 */
import type { Logger } from 'pino'

/** The part of a Namespace the cache reads. */
export interface NamespaceObject {
  metadata?: {
    name?: string
    resourceVersion?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
}

/** What an informer offers (list-watch.ts's, shaped as client-node's ListWatch was); tests pass a double. */
export interface NamespaceInformer {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: NamespaceObject) => void): void
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void
  start(): Promise<void>
  stop(): Promise<void>
  list(): ReadonlyArray<NamespaceObject>
}

/**
 * Restart delays after watch errors: `initialMs` doubling up to `maxMs`, back to `initialMs` after `healthyMs` without
 * error.
 */
export interface Backoff {
  initialMs: number
  maxMs: number
  healthyMs: number
}

/** The clock and timers, passed in so tests drive time instead of sleeping. */
export interface Timers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** 1 s doubling to 30 s, back to 1 s after a minute without errors. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, healthyMs: 60_000 }
/** How long a watch may stay silent before it is restarted. */
export const SILENCE_MS = 5 * 60_000

// Unref'd: a pending restart must not keep a CLI process alive on its own.
export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: handle => { clearTimeout(handle as NodeJS.Timeout) }
}


/** What `superviseWatch` needs: the informer, the clock, and what to do on a restart and a sync. */
export interface Supervision {
  informer: NamespaceInformer
  logger: Logger
  timers: Timers
  backoff: Backoff
  silenceMs: number
  onRestart: () => void
  onSynced: () => void
}

/**
 * Keeps the informer running. It stops for good after an `error` event, so: an error while starting or running restarts
 * it after a backoff; an error while stopped is ignored; `silenceMs` without any event restarts it too.
 */
export function superviseWatch (o: Supervision): {
  ready: () => boolean
  closed: () => boolean
  close: () => Promise<void>
} {
  let state: 'starting' | 'running' | 'waiting' | 'closed' = 'starting'
  let generation = 0
  let attempt = 0
  let healthySince = 0
  let lastEventAt = 0
  let synced = false
  let timer: unknown
  let pendingStart: Promise<void> | undefined

  function run (): void {
    state = 'starting'
    const current = ++generation
    const started = o.informer.start()
    pendingStart = started
    started
      .then(
        () => {
          // An error while starting has already scheduled the retry (or close() came first).
          if (current !== generation || state !== 'starting') return
          state = 'running'
          healthySince = lastEventAt = o.timers.now()
          synced = true
          o.onSynced()
          arm(o.silenceMs)
        },
        (err: unknown) => {
          if (current === generation) fail(err)
        }
      )
      .finally(() => {
        if (pendingStart === started) pendingStart = undefined
      })
  }

  function fail (err: unknown): void {
    if (state !== 'starting' && state !== 'running') {
      o.logger.debug({ err }, 'namespace watch: error while stopped, ignored')
      return
    }
    if (state === 'running' && o.timers.now() - healthySince >= o.backoff.healthyMs) attempt = 0
    const delay = Math.min(o.backoff.maxMs, o.backoff.initialMs * 2 ** attempt++)
    o.onRestart()
    o.logger.warn({ err, retryInMs: delay }, 'namespace watch failed; serving the cached namespaces and restarting it')
    restart(delay)
  }

  function restart (delay: number): void {
    state = 'waiting'
    disarm()
    stopInformer()
    timer = o.timers.setTimeout(run, delay)
  }

  function watchdog (): void {
    const quiet = o.timers.now() - lastEventAt
    if (quiet < o.silenceMs) {
      arm(o.silenceMs - quiet)
      return
    }
    o.logger.debug({ silentForMs: quiet }, 'namespace watch silent; restarting it in case its connection is half-open')
    // The delay lets the AbortError of the stopped watch arrive (and be ignored) before the new one starts.
    restart(o.backoff.initialMs)
  }

  function arm (ms: number): void {
    timer = o.timers.setTimeout(watchdog, ms)
  }
  function disarm (): void {
    if (timer !== undefined) o.timers.clearTimeout(timer)
    timer = undefined
  }
  function stopInformer (): void {
    o.informer.stop().catch((err: unknown) => {
      o.logger.debug({ err }, 'namespace watch: stop failed')
    })
  }
  const noteEvent = (): void => {
    lastEventAt = o.timers.now()
  }

  for (const verb of ['add', 'update', 'delete'] as const) o.informer.on(verb, noteEvent)
  o.informer.on('connect', noteEvent)
  o.informer.on('error', fail)
  run()
  return {
    ready: () => synced && state !== 'closed',
    closed: () => state === 'closed',
    async close () {
      state = 'closed'
      disarm()
      stopInformer()
      // ListWatch goes on to open its watch after a list that was in flight when stopped: stop it again then.
      void pendingStart?.then(stopInformer, () => {})
    }
  }
}
