/**
 * The namespace cache in a cluster: an informer (list + watch, list-watch.ts) keeps each Namespace's name,
 * labels and annotations in memory, so admission never waits on the API server (docs/configuration.md,
 * how it behaves on the wire). A name the cache lacks (a namespace created just before its first Pod) is read once
 * directly. A failed watch is restarted with backoff and a silent one is restarted in case its
 * connection is half-open; the stale cache is served meanwhile.
 */
import type { Logger } from 'pino'
import type { KubeClient } from '../kube/client.js'
import { statusOf } from '../kube/errors.js'
import { createNamespaceListWatch } from './list-watch.js'
import type { NamespaceInfo, NamespaceLookup } from '../admission/types.js'
import { DEFAULT_BACKOFF, SILENCE_MS, realTimers, superviseWatch, type Backoff, type NamespaceInformer, type NamespaceObject, type Timers } from './watch.js'

export type { Backoff, NamespaceInformer, Timers }

/**
 * For metrics: `watch-restart` a restart after a watch error (not the routine restart of a silent
 * watch), `cache-miss` one direct read of a name the cache lacked (shared by concurrent callers),
 * `miss-fetch-error` such a read failing with anything but 404.
 */
export type NamespaceEvent = 'watch-restart' | 'cache-miss' | 'miss-fetch-error'

/** What `createInformerNamespaces` needs; everything that touches the network or the clock is passed in. */
export interface InformerNamespacesOptions {
  informer: NamespaceInformer
  /** Reads one Namespace from the API server; resolves `undefined` on 404. */
  readNamespace: (name: string) => Promise<NamespaceObject | undefined>
  logger: Logger
  /** Delays between restarts after errors; default 1 s doubling to 30 s, reset after 60 s healthy. */
  backoff?: Partial<Backoff>
  /**
   * Restart the watch after this long without any event (default 5 min). Bounds how long a half-open
   * watch goes unnoticed: the watch has no client-side timeout, and in a quiet cluster silence is all
   * there is to go by; a restart resumes from the last resourceVersion.
   */
  silenceMs?: number
  /** How long a 404 for a name is remembered (default 5 s); the watch adding the name ends it early. */
  absentMs?: number
  onEvent?: (event: NamespaceEvent) => void
  timers?: Timers
}

const ABSENT_MS = 5000
const ABSENT_SWEEP_SIZE = 1000

/** A NamespaceLookup fed by `informer`; it starts at once, and `ready()` turns true after the first list. */
export function createInformerNamespaces (options: InformerNamespacesOptions): NamespaceLookup {
  const { informer, logger, onEvent = () => {} } = options
  const timers = options.timers ?? realTimers
  const cache = new Map<string, NamespaceInfo>()
  const misses = createMissReader({ ...options, cache, onEvent, now: () => timers.now() })
  function put (ns: NamespaceObject): void {
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
  readNamespace: (name: string) => Promise<NamespaceObject | undefined>
  logger: Logger
  onEvent: (event: NamespaceEvent) => void
  absentMs?: number
  now: () => number
}

/** Reads names the cache lacks: one request for all concurrent callers, and a 404 remembered for `absentMs`. */
function createMissReader (o: MissReaderOptions): {
  read: (name: string) => Promise<NamespaceInfo | undefined>
  forget: (name: string) => void
} {
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
    let ns: NamespaceObject | undefined
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
    forget: name => {
      absentUntil.delete(name)
    }
  }
}

/** The projection kept in the cache: a frozen copy of name, labels and annotations, never the whole object. */
function toNamespaceInfo (ns: NamespaceObject): NamespaceInfo | undefined {
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

/** The namespace lookup for a real cluster: list-watch.ts's informer and direct reads, over `kube`. */
export function createClusterNamespaces (
  kube: KubeClient,
  logger: Logger,
  options: ClusterNamespacesOptions = {}
): NamespaceLookup {
  async function readNamespace (name: string): Promise<NamespaceObject | undefined> {
    try {
      return await kube.request<NamespaceObject>('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`)
    } catch (err) {
      if (statusOf(err) === 404) return undefined
      throw err
    }
  }
  return createInformerNamespaces({ ...options, informer: createNamespaceListWatch(kube), logger, readNamespace })
}
