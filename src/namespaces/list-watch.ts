/**
 * List then watch, as client-go's reflector and client-node's ListWatch do, over the small client:
 * list the Namespaces, watch from the list's resourceVersion with bookmarks (so a resumed watch
 * need not relist), resume from the last resourceVersion when the API server ends a watch, and
 * relist when it says that version is gone (410). A failure is an `error` event and the watch
 * stays stopped: watch.ts restarts it with backoff.
 */
import { KubeApiError, type KubeClient, type WatchEvent } from '../kube/client.js'
import type { NamespaceInformer, NamespaceObject } from './watch.js'

const PATH = '/api/v1/namespaces'
/** A watch the API server closes this soon without sending anything is a failure, not a timeout: no tight loop. */
const SHORTEST_WATCH_MS = 1000

type Verb = 'add' | 'update' | 'delete' | 'error' | 'connect'

/** A NamespaceInformer for every Namespace of `kube`'s cluster. */
export function createNamespaceListWatch (kube: KubeClient, now: () => number = Date.now): NamespaceInformer {
  const callbacks: Record<Verb, Array<(arg: never) => void>> = {
    add: [],
    update: [],
    delete: [],
    error: [],
    connect: []
  }
  const emit = (verb: Verb, arg?: unknown): void => {
    for (const cb of callbacks[verb]) (cb as (arg: unknown) => void)(arg)
  }
  let objects = new Map<string, NamespaceObject>()
  let resourceVersion = ''
  let stopped = true
  let current: AbortController | undefined
  // Each start() is a run; a stop() and a new start() while a list is in flight leave that list's run behind.
  let run = 0

  async function list (): Promise<void> {
    const answer = await kube.request<{ items?: NamespaceObject[], metadata?: { resourceVersion?: string } }>('GET', PATH)
    const previous = objects
    objects = new Map((answer.items ?? []).map(ns => [ns.metadata?.name ?? '', ns]))
    for (const [name, ns] of previous) if (!objects.has(name)) emit('delete', ns)
    for (const [name, ns] of objects) emit(previous.has(name) ? 'update' : 'add', ns)
    resourceVersion = answer.metadata?.resourceVersion ?? ''
  }

  /** Lists if there is no resourceVersion to resume from, then opens the watch; resolves once it is open. */
  async function connect (mine: number): Promise<void> {
    emit('connect')
    const listed = resourceVersion === ''
    if (listed) await list()
    if (stopped || mine !== run) return
    const controller = new AbortController()
    current = controller
    const openedAt = now()
    let events = 0
    let failure: Error | undefined
    const query = `watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`
    let watch
    try {
      watch = await kube.watch(`${PATH}?${query}`, event => {
        events++
        failure = apply(event) ?? failure
      }, controller.signal)
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 410)) throw err
      // Refused at once as too old (the API server may answer 410 itself, not in the stream): relist
      // now, unless this very list's version was refused; then the restart after backoff relists.
      resourceVersion = ''
      if (listed) throw err
      return await connect(mine)
    }
    const ended = (err: unknown): void => {
      if (stopped || current !== controller) return
      if (err !== undefined || failure !== undefined) { emit('error', err ?? failure); return }
      if (events === 0 && now() - openedAt < SHORTEST_WATCH_MS) { emit('error', new Error('the namespace watch was closed at once, with nothing sent')); return }
      // Closed by the API server (its watch timeout) or after a 410: resume, or relist.
      connect(mine).catch((e: unknown) => { emit('error', e) })
    }
    watch.ended.then(() => { ended(undefined) }, ended)
  }

  /** Applies one watch event; an ERROR other than 410 (Gone) is returned. */
  function apply ({ type, object }: WatchEvent): Error | undefined {
    if (type === 'ERROR') {
      const code = typeof object.code === 'number' ? object.code : 500
      // The resourceVersion is too old to resume from: the API server ends the watch, and the next one relists.
      if (code === 410) { resourceVersion = ''; return undefined }
      return new KubeApiError(code, JSON.stringify(object), 'watch namespaces')
    }
    const ns = object as NamespaceObject
    const name = ns.metadata?.name ?? ''
    if (type === 'ADDED' || type === 'MODIFIED') {
      const had = objects.has(name)
      objects.set(name, ns)
      emit(had ? 'update' : 'add', ns)
    } else if (type === 'DELETED') {
      objects.delete(name)
      emit('delete', ns)
    }
    resourceVersion = ns.metadata?.resourceVersion ?? resourceVersion
    return undefined
  }

  return {
    on (verb: Verb, cb: (arg: never) => void) { callbacks[verb].push(cb) },
    async start () {
      stopped = false
      await connect(++run)
    },
    async stop () {
      stopped = true
      current?.abort()
      current = undefined
    },
    list: () => [...objects.values()]
  }
}
