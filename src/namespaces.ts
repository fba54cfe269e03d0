/**
 * The namespace cache in a cluster: a client-node informer (list + watch) keeps each Namespace's name,
 * labels and annotations in memory, so admission never waits on the API server (DESIGN.md, "Wire
 * behaviour"). A name the cache lacks (a namespace created just before its first Pod) is read once
 * directly. A failed watch is restarted with backoff and a silent one is restarted in case its
 * connection is half-open; the stale cache is served meanwhile.
 */
import type { Logger } from 'pino'
import { ApiException, CoreV1Api, makeInformer, type KubeConfig, type V1Namespace } from '@kubernetes/client-node'
import type { NamespaceInfo, NamespaceLookup } from './types.js'

/** The part of client-node's Informer (its ListWatch) used here; tests pass a double. */
export interface NamespaceInformer {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: V1Namespace) => void): void
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void
  start(): Promise<void>
  stop(): Promise<void>
  list(): ReadonlyArray<V1Namespace>
}

/**
 * For metrics: `watch-restart` a restart after a watch error (not the routine restart of a silent
 * watch), `cache-miss` one direct read of a name the cache lacked (shared by concurrent callers),
 * `miss-fetch-error` such a read failing with anything but 404.
 */
export type NamespaceEvent = 'watch-restart' | 'cache-miss' | 'miss-fetch-error'

/** Restart delays after watch errors: `initialMs` doubling up to `maxMs`, back to `initialMs` after `healthyMs` without error. */
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

/** What `createInformerNamespaces` needs; everything that touches the network or the clock is passed in. */
export interface InformerNamespacesOptions {
  informer: NamespaceInformer
  /** Reads one Namespace from the API server; resolves `undefined` on 404. */
  readNamespace: (name: string) => Promise<V1Namespace | undefined>
  logger: Logger
  /** Delays between restarts after errors; default 1 s doubling to 30 s, reset after 60 s healthy. */
  backoff?: Partial<Backoff>
  /**
   * Restart the watch after this long without any event (default 5 min). Bounds how long a half-open
   * watch goes unnoticed: client-node 1.4 sets no watch timeout and keeps bookmarks from its callbacks,
   * so in a quiet cluster silence is all there is to go by; a restart resumes from the last resourceVersion.
   */
  silenceMs?: number
  /** How long a 404 for a name is remembered (default 5 s); the watch adding the name ends it early. */
  absentMs?: number
  onEvent?: (event: NamespaceEvent) => void
  timers?: Timers
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, healthyMs: 60_000 }
const SILENCE_MS = 5 * 60_000
const ABSENT_MS = 5000
const ABSENT_SWEEP_SIZE = 1000

// Unref'd: a pending restart must not keep a CLI process alive on its own.
const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: handle => { clearTimeout(handle as NodeJS.Timeout) }
}

/** A NamespaceLookup fed by `informer`; it starts at once, and `ready()` turns true after the first list. */
export function createInformerNamespaces (options: InformerNamespacesOptions): NamespaceLookup {
  const { informer, logger, onEvent = () => {} } = options
  const timers = options.timers ?? realTimers
  const cache = new Map<string, NamespaceInfo>()
  const misses = createMissReader({ ...options, cache, onEvent, now: () => timers.now() })
  function put (ns: V1Namespace): void {
    const info = toNamespaceInfo(ns)
    if (info === undefined) return
    cache.set(info.name, info)
    misses.forget(info.name)
  }
  const watch = superviseWatch({
    informer,
    logger,
    timers,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    silenceMs: options.silenceMs ?? SILENCE_MS,
    onRestart: () => { onEvent('watch-restart') },
    // Rebuilt from the informer's own list on every (re)start, so nothing missed while down lingers.
    onSynced: () => { cache.clear(); for (const ns of informer.list()) put(ns) }
  })
  informer.on('add', put)
  informer.on('update', put)
  informer.on('delete', ns => { cache.delete(ns.metadata?.name ?? '') })
  return {
    async get (name) {
      const hit = cache.get(name)
      if (hit !== undefined || name === '' || watch.closed()) return hit
      return await misses.read(name)
    },
    ready: watch.ready,
    close: watch.close
  }
}

interface MissReaderOptions {
  cache: Map<string, NamespaceInfo>
  readNamespace: (name: string) => Promise<V1Namespace | undefined>
  logger: Logger
  onEvent: (event: NamespaceEvent) => void
  absentMs?: number
  now: () => number
}

/** Reads names the cache lacks: one request for all concurrent callers, and a 404 remembered for `absentMs`. */
function createMissReader (o: MissReaderOptions): { read: (name: string) => Promise<NamespaceInfo | undefined>, forget: (name: string) => void } {
  const { cache, absentMs = ABSENT_MS, now } = o
  const absentUntil = new Map<string, number>()
  const inflight = new Map<string, Promise<NamespaceInfo | undefined>>()

  function rememberAbsent (name: string): void {
    if (absentUntil.size >= ABSENT_SWEEP_SIZE) {
      for (const [key, until] of absentUntil) if (until <= now()) absentUntil.delete(key)
    }
    absentUntil.set(name, now() + absentMs)
  }

  async function fetch (name: string): Promise<NamespaceInfo | undefined> {
    o.onEvent('cache-miss')
    let ns: V1Namespace | undefined
    try {
      ns = await o.readNamespace(name)
    } catch (err) {
      o.onEvent('miss-fetch-error')
      o.logger.warn({ err, namespace: name }, 'namespace not in the cache and reading it failed')
      throw new Error(`namespace "${name}" is not in the cache and reading it failed: ${String(err)}`, { cause: err })
    }
    // The watch may have delivered the name meanwhile; its copy wins and will stay current.
    if (cache.has(name)) return cache.get(name)
    const info = ns === undefined ? undefined : toNamespaceInfo(ns)
    if (info === undefined) rememberAbsent(name)
    else cache.set(name, info)
    return info
  }

  return {
    async read (name) {
      const until = absentUntil.get(name)
      if (until !== undefined && now() < until) return undefined
      let pending = inflight.get(name)
      if (pending === undefined) {
        pending = fetch(name).finally(() => inflight.delete(name))
        inflight.set(name, pending)
      }
      return await pending
    },
    forget: name => { absentUntil.delete(name) }
  }
}

/** The projection kept in the cache: a frozen copy of name, labels and annotations, never the whole object. */
function toNamespaceInfo (ns: V1Namespace): NamespaceInfo | undefined {
  const name = ns.metadata?.name
  if (name === undefined || name === '') return undefined
  return Object.freeze({
    name,
    labels: Object.freeze({ ...ns.metadata?.labels }),
    annotations: Object.freeze({ ...ns.metadata?.annotations })
  })
}

/** Tuning for `createClusterNamespaces`; the defaults suit production. */
export type ClusterNamespacesOptions = Pick<InformerNamespacesOptions, 'onEvent' | 'backoff' | 'silenceMs' | 'absentMs'>

/** The namespace lookup for a real cluster: client-node's informer and CoreV1Api, wired to `kubeConfig`. */
export function createClusterNamespaces (kubeConfig: KubeConfig, logger: Logger, options: ClusterNamespacesOptions = {}): NamespaceLookup {
  const core = kubeConfig.makeApiClient(CoreV1Api)
  // Bookmarks keep the informer's resourceVersion fresh, so a restarted watch resumes instead of relisting.
  const path = '/api/v1/namespaces?allowWatchBookmarks=true'
  const informer = makeInformer(kubeConfig, path, async () => await core.listNamespace())
  async function readNamespace (name: string): Promise<V1Namespace | undefined> {
    try {
      return await core.readNamespace({ name })
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined
      throw err
    }
  }
  return createInformerNamespaces({ ...options, informer, logger, readNamespace })
}

interface Supervision {
  informer: NamespaceInformer
  logger: Logger
  timers: Timers
  backoff: Backoff
  silenceMs: number
  onRestart: () => void
  onSynced: () => void
}

/**
 * Keeps the informer running. client-node's ListWatch stops for good after an `error` event (and
 * emits one, an AbortError, when stopped mid-watch), so: an error while starting or running restarts
 * it after a backoff; an error while stopped is ignored; `silenceMs` without any event restarts it too.
 */
function superviseWatch (o: Supervision): { ready: () => boolean, closed: () => boolean, close: () => Promise<void> } {
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
    started.then(() => {
      // An error while starting has already scheduled the retry (or close() came first).
      if (current !== generation || state !== 'starting') return
      state = 'running'
      healthySince = lastEventAt = o.timers.now()
      synced = true
      o.onSynced()
      arm(o.silenceMs)
    }, (err: unknown) => { if (current === generation) fail(err) }).finally(() => { if (pendingStart === started) pendingStart = undefined })
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
    if (quiet < o.silenceMs) { arm(o.silenceMs - quiet); return }
    o.logger.debug({ silentForMs: quiet }, 'namespace watch silent; restarting it in case its connection is half-open')
    // The delay lets the AbortError of the stopped watch arrive (and be ignored) before the new one starts.
    restart(o.backoff.initialMs)
  }

  function arm (ms: number): void { timer = o.timers.setTimeout(watchdog, ms) }
  function disarm (): void { if (timer !== undefined) o.timers.clearTimeout(timer); timer = undefined }
  function stopInformer (): void {
    o.informer.stop().catch((err: unknown) => { o.logger.debug({ err }, 'namespace watch: stop failed') })
  }
  const noteEvent = (): void => { lastEventAt = o.timers.now() }

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
