import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { KubeApiError, type KubeClient, type WatchEvent } from '../../../src/kube/client.js'
import { watchObject, type ObjectWatch, type ObjectWatchOptions } from '../../../src/kube/object-watch.js'

interface Obj { metadata: { name: string, resourceVersion: string }, value?: number }
const obj = (rv: string, value: number): Obj => ({ metadata: { name: 'one', resourceVersion: rv }, value })

/** A watch the test drives: events in, then an end or a failure. */
interface OpenedWatch {
  path: string
  send: (event: WatchEvent) => void
  end: () => void
  fail: (err: Error) => void
  signal: AbortSignal
}
type ListAnswer = { items: Obj[], metadata?: { resourceVersion: string } } | Error

/**
 * A KubeClient double: lists answer from `lists` in turn (the last one again once they run out);
 * each watch waits until the test ends it, or fails at once when `refuse` holds an error for it.
 */
function fakeKube (lists: ListAnswer[], refuse: Array<Error | undefined> = []):
{ kube: KubeClient, requests: string[], watches: OpenedWatch[] } {
  const requests: string[] = []
  const watches: OpenedWatch[] = []
  let listed = 0
  const kube: KubeClient = {
    server: 'https://api',
    async request<T> (method: string, path: string): Promise<T> {
      requests.push(`${method} ${path}`)
      const answer = lists[Math.min(listed++, lists.length - 1)]!
      if (answer instanceof Error) throw answer
      return answer as T
    },
    async watch (path, onEvent, signal) {
      requests.push(`WATCH ${path}`)
      const refusal = refuse[watches.length]
      let end: () => void = () => {}
      let fail: (err: Error) => void = () => {}
      const ended = new Promise<void>((resolve, reject) => { end = resolve; fail = reject })
      signal.addEventListener('abort', () => { fail(Object.assign(new Error('aborted'), { name: 'AbortError' })) })
      watches.push({ path, send: onEvent, end, fail, signal })
      if (refusal !== undefined) {
        ended.catch(() => {})
        throw refusal
      }
      return { ended }
    },
    async text () { throw new Error('not read here') },
    async close () {}
  }
  return { kube, requests, watches }
}

async function until (what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await sleep(10)
  if (!done()) throw new Error(`timed out waiting for ${what}`)
}

const silent = pino({ level: 'silent' })
const fast = { backoff: { initialMs: 5, maxMs: 20 } }

/** watchObject on `kube` for Thing one in collection /c, with `rest` of the options. */
function watchOne (
  kube: KubeClient,
  onChange: (o: Obj | undefined) => void,
  rest: Partial<ObjectWatchOptions<Obj>> = {}
): ObjectWatch {
  return watchObject<Obj>({ kube, collection: '/c', name: 'one', what: 'Thing one', onChange, logger: silent, ...rest })
}

t.test('lists by name, then watches from the list\'s version; every change reaches onChange, a deletion as undefined', async t => {
  const { kube, requests, watches } = fakeKube([{ items: [obj('5', 1)], metadata: { resourceVersion: '7' } }])
  const seen: Array<Obj | undefined> = []
  const secrets = { collection: '/api/v1/namespaces/ns/secrets', what: 'Secret ns/one', watchSeconds: 60 }
  const watch = watchOne(kube, o => seen.push(o), secrets)
  t.teardown(() => watch.close())
  t.equal(watch.synced(), false, 'not before the list')
  await until('the watch', () => watches.length === 1)
  t.equal(watch.synced(), true)
  t.same(requests, [
    'GET /api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Done',
    'WATCH /api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Done' +
      '&watch=true&allowWatchBookmarks=true&timeoutSeconds=60&resourceVersion=7'
  ], 'the name in the field selector: what RBAC by resourceNames allows')
  watches[0]!.send({ type: 'MODIFIED', object: obj('8', 2) as unknown as Record<string, unknown> })
  watches[0]!.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })
  watches[0]!.send({ type: 'DELETED', object: obj('10', 2) as unknown as Record<string, unknown> })
  watches[0]!.send({ type: 'ADDED', object: obj('11', 3) as unknown as Record<string, unknown> })
  watches[0]!.send({ type: 'MODIFIED', object: { value: 4 } })
  t.same(seen.map(o => o?.value), [1, 2, undefined, 3, 4])
  watches[0]!.end()
  await until('the resumed watch', () => watches.length === 2)
  t.match(watches[1]!.path, /resourceVersion=11$/, 'resumed from the last version seen, without a new list')
  t.equal(requests.filter(r => r.startsWith('GET')).length, 1)
})

t.test('a missing object is undefined; a 410 (in the stream or as the answer) relists; a failure backs off and relists', async t => {
  const gone = new KubeApiError(410, '{}', 'watch')
  const { kube, requests, watches } = fakeKube([
    { items: [], metadata: { resourceVersion: '1' } },
    { items: [obj('3', 1)], metadata: { resourceVersion: '3' } },
    new Error('connect ECONNREFUSED'),
    { items: [obj('4', 2)], metadata: { resourceVersion: '4' } }
  ], [undefined, gone])
  const seen: Array<number | undefined> = []
  const lines: string[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } })
  const watch = watchOne(kube, o => seen.push(o?.value), { logger, ...fast })
  t.teardown(() => watch.close())
  await until('the first watch', () => watches.length === 1)
  watches[0]!.send({ type: 'ERROR', object: { kind: 'Status', code: 410 } })
  watches[0]!.end()
  await until('the refused watch and the third', () => watches.length === 3)
  t.same(seen, [undefined, 1, 2], 'absent, then the relist after the ERROR 410; the 410 answer, a failed list, then the relist')
  t.equal(requests.filter(r => r.startsWith('GET')).length, 4)
  t.match(lines.join(''), /ECONNREFUSED.*"msg":"watch of Thing one failed; keeping what it last saw and starting again"/)
})

t.test('a watch that fails, one closed at once with nothing sent, and another error in the stream: each backs off, then relists', async t => {
  const { kube, watches } = fakeKube([{ items: [obj('1', 1)], metadata: { resourceVersion: '1' } }])
  const seen: Array<number | undefined> = []
  const watch = watchOne(kube, o => seen.push(o?.value), fast)
  t.teardown(() => watch.close())
  await until('a watch', () => watches.length === 1)
  watches[0]!.fail(new Error('socket hang up'))
  await until('a second', () => watches.length === 2)
  watches[1]!.end()
  await until('a third', () => watches.length === 3)
  watches[2]!.send({ type: 'ERROR', object: { kind: 'Status', code: 500, message: 'etcd' } })
  watches[2]!.send({ type: 'ERROR', object: { kind: 'Status' } })
  watches[2]!.end()
  await until('a fourth', () => watches.length === 4)
  t.same(seen, [1, 1, 1, 1], 'a list before each watch')
})

t.test('a throwing onChange is logged and the watch goes on; after close(), nothing more is delivered', async t => {
  const { kube, watches } = fakeKube([{ items: [obj('1', 1)], metadata: { resourceVersion: '1' } }])
  const lines: string[] = []
  const logger = pino({ level: 'error' }, { write: (line: string) => { lines.push(line) } })
  let calls = 0
  const watch = watchOne(kube, () => { calls++; throw new Error('bug') }, { logger })
  await until('the watch', () => watches.length === 1)
  t.match(lines.join(''), /"message":"bug".*"msg":"handling a change of Thing one failed"/)
  const open = watches[0]!
  await watch.close()
  t.equal(open.signal.aborted, true, 'the watch is aborted')
  open.send({ type: 'MODIFIED', object: obj('2', 2) as unknown as Record<string, unknown> })
  t.equal(calls, 1)
})

t.test('a list without a resourceVersion watches from any version', async t => {
  const { kube, watches } = fakeKube([{ items: [] }])
  const watch = watchOne(kube, () => {})
  t.teardown(() => watch.close())
  await until('the watch', () => watches.length === 1)
  t.match(watches[0]!.path, /&resourceVersion=$/)
})

t.test('close() during a backoff ends it at once', async t => {
  const { kube } = fakeKube([new Error('down')])
  const watch = watchOne(kube, () => {}, { backoff: { initialMs: 60_000, maxMs: 60_000 } })
  await sleep(20)
  const started = Date.now()
  await watch.close()
  t.ok(Date.now() - started < 1000, 'not after the minute')
  t.equal(watch.synced(), false)
})
