/**
 * One named object kept current, as client-go's reflector does for a single object: a list with
 * `fieldSelector=metadata.name=NAME`, then a watch from the list's resourceVersion. The API server
 * takes the name of such a list or watch from its field selector, so RBAC by `resourceNames` allows
 * it: a Role may grant watching one Secret without seeing the others. The watch is resumed when the
 * API server ends it (its `timeoutSeconds`), relisted after a 410, and restarted with backoff after
 * a failure; a client-side deadline past the server's timeout ends a watch whose connection went
 * half-open. Between a failure and the next list, the last object delivered stands.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { KubeApiError, type KubeClient, type WatchEvent } from './client.js'

/** What a caller sees of an object: enough to tell versions apart. */
export interface KubeObject { readonly metadata?: { readonly name?: string, readonly resourceVersion?: string } }

/** Options of `watchObject`. */
export interface ObjectWatchOptions<T extends KubeObject> {
  readonly kube: KubeClient
  /** The collection's path, e.g. `/api/v1/namespaces/lameduck-system/secrets`. */
  readonly collection: string
  readonly name: string
  /** For log lines, e.g. `Secret lameduck-system/lameduck-tls`. */
  readonly what: string
  /** The object after each change; undefined while it does not exist. */
  readonly onChange: (object: T | undefined) => void
  readonly logger: Logger
  /** Delay after a failure: `initialMs` doubling up to `maxMs`. Default 1 s to 30 s. */
  readonly backoff?: { readonly initialMs: number, readonly maxMs: number }
  /** The watch's `timeoutSeconds` (default 300); the client gives up 30 s after it. */
  readonly watchSeconds?: number
}

/** A running watch. */
export interface ObjectWatch {
  /** True once the first list has been delivered. */
  synced(): boolean
  /** Stops it; no `onChange` after this resolves. */
  close(): Promise<void>
}

/** A watch the API server closes this soon without sending anything is a failure, not a timeout: no tight loop. */
const SHORTEST_WATCH_MS = 1000
const HALF_OPEN_GRACE_MS = 30_000

class Gone extends Error {}

/** Starts keeping `name` current; `onChange` gets the first list's answer, then every change. */
export function watchObject<T extends KubeObject> (o: ObjectWatchOptions<T>): ObjectWatch {
  const { initialMs, maxMs } = o.backoff ?? { initialMs: 1000, maxMs: 30_000 }
  const watchSeconds = o.watchSeconds ?? 300
  const selector = `fieldSelector=${encodeURIComponent(`metadata.name=${o.name}`)}`
  const closing = new AbortController()
  let synced = false
  const deliver = (object: T | undefined): void => {
    if (closing.signal.aborted) return
    try {
      o.onChange(object)
    } catch (err) {
      // The caller's bug: logged, and the watch goes on (a throw would end the stream).
      o.logger.error({ err }, `handling a change of ${o.what} failed`)
    }
  }

  /** Watches from `resourceVersion` until the API server ends it: the version to resume from. Throws Gone for a 410. */
  async function watchOnce (resourceVersion: string): Promise<string> {
    let version = resourceVersion
    let failure: Error | undefined
    let events = 0
    const onEvent = ({ type, object }: WatchEvent): void => {
      events++
      if (type === 'ERROR') {
        const code = typeof object.code === 'number' ? object.code : 500
        failure = code === 410 ? new Gone() : new KubeApiError(code, JSON.stringify(object), `watch ${o.what}`)
        return
      }
      version = (object as KubeObject).metadata?.resourceVersion ?? version
      if (type === 'ADDED' || type === 'MODIFIED') deliver(object as T)
      else if (type === 'DELETED') deliver(undefined)
    }
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(watchSeconds * 1000 + HALF_OPEN_GRACE_MS)])
    const query = `${selector}&watch=true&allowWatchBookmarks=true&timeoutSeconds=${watchSeconds}` +
      `&resourceVersion=${encodeURIComponent(version)}`
    const opened = Date.now()
    try {
      await (await o.kube.watch(`${o.collection}?${query}`, onEvent, signal)).ended
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 410) throw new Gone()
      throw err
    }
    if (failure !== undefined) throw failure
    if (events === 0 && Date.now() - opened < SHORTEST_WATCH_MS) {
      throw new Error(`the watch of ${o.what} was closed at once, with nothing sent`)
    }
    return version
  }

  /** Lists, then watches until a 410 asks for a new list (returns) or something fails (throws). */
  async function listAndWatch (): Promise<void> {
    type List = { items?: T[], metadata?: { resourceVersion?: string } }
    const list = await o.kube.request<List>('GET', `${o.collection}?${selector}`)
    deliver(list.items?.[0])
    synced = true
    let version = list.metadata?.resourceVersion ?? ''
    try {
      while (!closing.signal.aborted) version = await watchOnce(version)
    } catch (err) {
      if (!(err instanceof Gone)) throw err
    }
  }

  const loop = (async () => {
    let failures = 0
    while (!closing.signal.aborted) {
      try {
        await listAndWatch()
        failures = 0
      } catch (err) {
        if (closing.signal.aborted) break
        const delay = Math.min(maxMs, initialMs * 2 ** failures++)
        const message = `watch of ${o.what} failed; keeping what it last saw and starting again`
        o.logger.warn({ err, retryInMs: delay }, message)
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => undefined)
      }
    }
  })()

  return {
    synced: () => synced,
    async close () {
      closing.abort()
      await loop
    }
  }
}
