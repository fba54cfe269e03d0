/**
 * Test doubles for the namespace cache: an informer the test drives, timers it advances by hand, and
 * a lookup wired to both. No API server involved; the real one is exercised in test/e2e.
 */
import t from 'tap'
import { pino } from 'pino'
import type { V1Namespace } from '@kubernetes/client-node'
import { createInformerNamespaces, type InformerNamespacesOptions, type NamespaceEvent, type NamespaceInformer, type Timers } from '../../src/namespaces/informer.js'

export const logger = pino({ level: 'silent' })
export const flush = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** A Namespace object as the API server would send it. */
export function ns (
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {}
): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }
}

interface Deferred { resolve: () => void, reject: (err: Error) => void }

/** A stand-in for client-node's ListWatch: the test emits its events and settles each start(). */
export class FakeInformer implements NamespaceInformer {
  items: V1Namespace[] = []
  starts: Deferred[] = []
  stops = 0
  stopError: Error | undefined
  private readonly handlers = new Map<string, Array<(arg: never) => void>>()
  on (verb: string, cb: (arg: never) => void): void {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb])
  }

  /** Like ListWatch: object events change `list()` before the callbacks run. */
  emit (verb: 'add' | 'update' | 'delete' | 'error' | 'connect', arg?: unknown): void {
    if (verb === 'add' || verb === 'update' || verb === 'delete') {
      const name = (arg as V1Namespace).metadata?.name
      this.items = this.items.filter(i => i.metadata?.name !== name)
      if (verb !== 'delete') this.items.push(arg as V1Namespace)
    }
    for (const cb of this.handlers.get(verb) ?? []) cb(arg as never)
  }

  async start (): Promise<void> {
    await new Promise<void>((resolve, reject) => this.starts.push({ resolve, reject }))
  }

  async stop (): Promise<void> {
    this.stops++
    if (this.stopError !== undefined) throw this.stopError
  }

  list (): V1Namespace[] { return this.items }
}


/** Timers the test advances by hand; `delays` records every timeout asked for. */
export function fakeTimers (): Timers & { advance: (ms: number) => void, delays: number[], pending: () => number } {
  let clock = 0
  const queue = new Set<{ at: number, fn: () => void }>()
  const delays: number[] = []
  return {
    now: () => clock,
    setTimeout (fn, ms) { delays.push(ms); const entry = { at: clock + ms, fn }; queue.add(entry); return entry },
    clearTimeout (handle) { queue.delete(handle as { at: number, fn: () => void }) },
    advance (ms) {
      const until = clock + ms
      for (;;) {
        const due = [...queue].filter(e => e.at <= until).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) break
        queue.delete(due)
        clock = due.at
        due.fn()
      }
      clock = until
    },
    delays,
    pending: () => queue.size
  }
}

/** A lookup over a FakeInformer and fake timers, closed at teardown; `api` answers direct reads. */
export function setup (overrides: Partial<InformerNamespacesOptions> = {}) {
  const informer = new FakeInformer()
  const timers = fakeTimers()
  const events: NamespaceEvent[] = []
  const reads: string[] = []
  const api = new Map<string, V1Namespace | Error>()
  const readNamespace = async (name: string): Promise<V1Namespace | undefined> => {
    reads.push(name)
    await flush()
    const found = api.get(name)
    if (found instanceof Error) throw found
    return found
  }
  const lookup = createInformerNamespaces({
    informer, readNamespace, logger, timers, onEvent: e => { events.push(e) }, ...overrides
  })
  t.teardown(() => lookup.close())
  const sync = async (index = informer.starts.length - 1): Promise<void> => {
    informer.starts[index]!.resolve()
    await flush()
  }
  const count = (e: NamespaceEvent): number => events.filter(x => x === e).length
  return { informer, timers, lookup, reads, api, sync, count }
}

