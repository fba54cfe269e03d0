// list-watch.ts against a KubeClient double that the test drives: what is listed, which watches
// are opened from which resourceVersion, and how each ends.
import t from 'tap'
import { createNamespaceListWatch } from '../../../src/namespaces/list-watch.js'
import { KubeApiError, type KubeClient, type WatchEvent } from '../../../src/kube/client.js'
import type { NamespaceObject } from '../../../src/namespaces/watch.js'

interface Watch { path: string, send: (e: WatchEvent) => void, end: (err?: Error) => void, signal: AbortSignal }

const ns = (name: string, resourceVersion = '1', labels: Record<string, string> = {}): NamespaceObject & Record<string, unknown> => ({ metadata: { name, resourceVersion, labels } })

function double (
  lists: Array<() => NamespaceObject[] | Error>,
  failWatch?: () => Error | undefined
): KubeClient & { watches: Watch[], listed: number } {
  const watches: Watch[] = []
  const client = {
    server: 'https://api',
    watches,
    listed: 0,
    async request<T> (): Promise<T> {
      const next = lists[Math.min(client.listed++, lists.length - 1)]!()
      if (next instanceof Error) throw next
      // An empty list with neither items nor metadata, the least an answer can hold.
      return (next.length === 0 ? {} : { items: next, metadata: { resourceVersion: `list-${client.listed}` } }) as T
    },
    async text (): Promise<string> {
      throw new Error('list-watch reads no text')
    },
    async watch (path: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
      const refused = failWatch?.()
      if (refused !== undefined) throw refused
      let end!: (err?: Error) => void
      const ended = new Promise<void>((resolve, reject) => {
        end = err => {
          if (err === undefined) resolve()
          else reject(err)
        }
      })
      signal.addEventListener('abort', () => {
        end(new Error('aborted'))
      })
      watches.push({ path, send: onEvent, end, signal })
      return { ended }
    },
    async close () {}
  }
  return client
}

const tick = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

function record (informer: ReturnType<typeof createNamespaceListWatch>): string[] {
  const seen: string[] = []
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, obj => seen.push(`${verb} ${obj.metadata?.name ?? ''}`))
  informer.on('connect', () => seen.push('connect'))
  informer.on('error', err => seen.push(`error ${(err as Error).message}`))
  return seen
}

t.test('lists, then watches from the list\'s version with bookmarks; events keep the objects and the version', async t => {
  const kube = double([() => [ns('a'), ns('b')]])
  const informer = createNamespaceListWatch(kube)
  const seen = record(informer)
  await informer.start()
  t.same(seen, ['connect', 'add a', 'add b'])
  t.equal(kube.watches[0]!.path, '/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion=list-1')
  const w = kube.watches[0]!
  w.send({ type: 'ADDED', object: ns('c', '5') })
  w.send({ type: 'MODIFIED', object: ns('a', '6', { x: 'y' }) })
  w.send({ type: 'MODIFIED', object: ns('d', '7') })
  w.send({ type: 'DELETED', object: ns('b', '8') })
  w.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })
  w.send({ type: 'BOOKMARK', object: {} })
  t.same(seen.slice(3), ['add c', 'update a', 'add d', 'delete b'])
  t.same(informer.list().map(o => o.metadata?.name).sort(), ['a', 'c', 'd'])
  w.send({ type: 'ADDED', object: {} })
  t.ok(informer.list().some(o => o.metadata?.name === undefined), 'a nameless object is kept under ""')
  w.end()
  await tick()
  t.equal(kube.watches[1]!.path, '/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion=9', 'closed by the API server: resumed from the last version')
  t.equal(kube.listed, 1, 'not relisted')
  await informer.stop()
  t.ok(kube.watches[1]!.signal.aborted, 'stop aborts the watch')
  await tick()
  t.notOk(seen.some(s => s.startsWith('error')), 'the aborted watch is no error')
})

t.test('410 Gone: relisted, the objects missing from the new list deleted', async t => {
  const kube = double([() => [ns('a'), ns('b')], () => [ns('b', '2'), {}]])
  const informer = createNamespaceListWatch(kube)
  const seen = record(informer)
  await informer.start()
  kube.watches[0]!.send({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } })
  kube.watches[0]!.end()
  await tick()
  t.equal(kube.listed, 2)
  t.same(seen, ['connect', 'add a', 'add b', 'connect', 'delete a', 'update b', 'add '])
  t.match(kube.watches[1]!.path, /resourceVersion=list-2$/)
  await informer.stop()
})

t.test('a watch refused with 410 itself: relisted at once; refused again right after a list, the start fails and the next relists', async t => {
  let gone = 1
  const expiring = double([() => [ns('a')], () => [ns('b')]], () => gone-- > 0 ? new KubeApiError(410, '{"code":410}', 'watch') : undefined)
  const other = createNamespaceListWatch(expiring)
  const seen = record(other)
  await t.rejects(other.start(), { code: 410 }, 'the list\'s own version refused: the start fails (watch.ts restarts it)')
  await other.start()
  t.equal(expiring.listed, 2, 'relisted on the next start')
  t.equal(expiring.watches.length, 1)
  expiring.watches[0]!.send({ type: 'MODIFIED', object: ns('b', '9') })
  gone = 1
  await other.stop()
  await other.start()
  t.equal(expiring.listed, 3, 'a resumed watch refused with 410: relisted at once, in the same start')
  t.equal(expiring.watches.length, 2)
  t.equal(seen.filter(s => s === 'connect').length, 4, 'one connect per attempt')
  await other.stop()
})

t.test('failures are error events, and the informer stays stopped', async t => {
  const other = double([() => [ns('a')]])
  const informer = createNamespaceListWatch(other)
  const seen = record(informer)
  await informer.start()
  other.watches[0]!.send({ type: 'ERROR', object: { code: 500, message: 'etcd' } })
  other.watches[0]!.end()
  await tick()
  t.match(seen.at(-1), /^error watch namespaces: the API server answered 500$/, 'an ERROR event other than 410')
  t.equal(other.watches.length, 1, 'not reopened')

  const noCode = double([() => []])
  const second = createNamespaceListWatch(noCode)
  const errs = record(second)
  await second.start()
  noCode.watches[0]!.send({ type: 'ERROR', object: {} })
  noCode.watches[0]!.end(new Error('reset'))
  await tick()
  t.equal(errs.at(-1), 'error reset', 'the stream\'s own failure wins')

  let now = 0
  const quick = double([() => []])
  const third = createNamespaceListWatch(quick, () => now)
  const quickSeen = record(third)
  await third.start()
  now = 999
  quick.watches[0]!.end()
  await tick()
  t.equal(quickSeen.at(-1), 'error the namespace watch was closed at once, with nothing sent', 'no tight loop')
  await third.start()
  now = 5000
  quick.watches[1]!.end()
  await tick()
  t.equal(quick.watches.length, 3, 'a quiet watch that lasted is resumed')
  await third.stop()
})

t.test('a failed list or watch rejects start; a failed resume is an error event', async t => {
  const failingList = double([() => new KubeApiError(403, '', 'GET /api/v1/namespaces')])
  await t.rejects(createNamespaceListWatch(failingList).start(), { code: 403 })
  let refuse = false
  const kube = double([() => [ns('a')]], () => refuse ? new Error('connect ECONNREFUSED') : undefined)
  const informer = createNamespaceListWatch(kube)
  const seen = record(informer)
  await informer.start()
  kube.watches[0]!.send({ type: 'ADDED', object: ns('b', '3') })
  refuse = true
  kube.watches[0]!.end()
  await tick()
  t.equal(seen.at(-1), 'error connect ECONNREFUSED')
  await t.rejects(informer.start(), { message: 'connect ECONNREFUSED' })
})

t.test('stopped while listing: no watch; a new start meanwhile opens only its own', async t => {
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const lists: Array<() => NamespaceObject[]> = [() => [ns('a')]]
  const kube = double(lists)
  const slow = kube.request.bind(kube)
  let first = true
  kube.request = async <T>(method: string, path: string): Promise<T> => {
    if (first) { first = false; await gate }
    return await slow<T>(method, path)
  }
  const informer = createNamespaceListWatch(kube)
  const started = informer.start()
  await informer.stop()
  const restarted = informer.start()
  await restarted
  release()
  await started
  t.equal(kube.watches.length, 1, 'the stale run opened nothing')
  await informer.stop()
  const again = double([() => []])
  let block!: () => void
  const held = new Promise<void>(resolve => { block = resolve })
  const base = again.request.bind(again)
  again.request = async <T,>(method: string, path: string): Promise<T> => {
    await held
    return await base<T>(method, path)
  }
  const lone = createNamespaceListWatch(again)
  const pending = lone.start()
  await lone.stop()
  block()
  await pending
  t.equal(again.watches.length, 0, 'stopped while listing: no watch')
})
