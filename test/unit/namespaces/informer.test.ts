import t from 'tap'
import http from 'node:http'
import { once } from 'node:events'
import {
  createClusterNamespaces
} from '../../../src/namespaces/informer.js'
import { logger, ns, setup } from '../../helpers/namespaces.js'
import { kubeClientFor } from '../../helpers/kube-client.js'

t.test('ready after the first list, answering from it without reading', async t => {
  const { informer, lookup, reads, sync } = setup()
  informer.items = [ns('shop', { 'lameduck.dev/inject': 'enabled' }, { 'lameduck.dev/prestop-sleep': '20s' }), { metadata: {} }]
  t.equal(informer.starts.length, 1, 'started at once')
  t.equal(lookup.ready(), false)
  await sync()
  t.equal(lookup.ready(), true)
  const shop = await lookup.get('shop')
  t.same(shop, { name: 'shop', labels: { 'lameduck.dev/inject': 'enabled' }, annotations: { 'lameduck.dev/prestop-sleep': '20s' } })
  t.ok(Object.isFrozen(shop) && Object.isFrozen(shop?.labels), 'a frozen copy')
  t.same(reads, [])
})

t.test('add, update and delete events change the cache', async t => {
  const { informer, lookup, reads, api, sync } = setup()
  await sync()
  const cases: Array<[string, () => void, Record<string, string> | undefined]> = [
    ['add', () => { informer.emit('add', ns('a', { x: '1' })) }, { x: '1' }],
    ['update', () => { informer.emit('update', ns('a', { x: '2' })) }, { x: '2' }],
    ['add without a name is ignored', () => { informer.emit('add', { metadata: { labels: {} } }) }, { x: '2' }],
    ['delete', () => { informer.emit('delete', ns('a')) }, undefined],
    ['delete without metadata is harmless', () => { informer.emit('delete', {}) }, undefined]
  ]
  for (const [name, act, labels] of cases) {
    act()
    t.same((await lookup.get('a'))?.labels, labels, name)
  }
  t.equal(api.size, 0)
  t.same(reads, ['a'], 'a name deleted from the cache is a miss again (then remembered as absent)')
})

t.test('a miss is read once for many concurrent callers, then served from the cache', async t => {
  const { lookup, reads, api, sync, count } = setup()
  await sync()
  api.set('late', ns('late', { 'lameduck.dev/inject': 'enabled' }))
  const answers = await Promise.all(Array.from({ length: 20 }, async () => await lookup.get('late')))
  t.ok(answers.every(a => a?.labels['lameduck.dev/inject'] === 'enabled'))
  t.same(reads, ['late'])
  t.equal(count('cache-miss'), 1)
  await lookup.get('late')
  t.same(reads, ['late'], 'now cached')
  t.equal(await lookup.get(''), undefined, 'an empty name is never read')
  t.same(reads, ['late'])
})

t.test('a 404 is remembered briefly, and the watch adding the name ends that', async t => {
  const { informer, timers, lookup, reads, sync } = setup({ absentMs: 1000 })
  await sync()
  t.equal(await lookup.get('gone'), undefined)
  t.equal(await lookup.get('gone'), undefined)
  t.same(reads, ['gone'], 'remembered as absent')
  timers.advance(1000)
  t.equal(await lookup.get('gone'), undefined)
  t.same(reads, ['gone', 'gone'], 'read again once the memory expires')
  informer.emit('add', ns('gone', { y: '1' }))
  t.same((await lookup.get('gone'))?.labels, { y: '1' })
  t.same(reads, ['gone', 'gone'])
})

t.test('what the watch delivers while a miss is being read wins', async t => {
  const { informer, lookup, api, sync } = setup()
  await sync()
  api.set('race', ns('race', { from: 'read' }))
  const pending = lookup.get('race')
  informer.emit('add', ns('race', { from: 'watch' }))
  t.same((await pending)?.labels, { from: 'watch' })
  const pending404 = lookup.get('race2')
  informer.emit('add', ns('race2', { from: 'watch' }))
  t.same((await pending404)?.labels, { from: 'watch' }, 'a 404 read does not hide a name the watch added')
})

t.test('a failed read rejects every waiting caller, is counted, and is not remembered', async t => {
  const { lookup, reads, api, sync, count } = setup()
  await sync()
  api.set('broken', new Error('connection refused'))
  const results = await Promise.allSettled([lookup.get('broken'), lookup.get('broken')])
  for (const r of results) t.match(r, { status: 'rejected', reason: { message: /namespace "broken" is not in the cache and reading it failed: Error: connection refused/ } })
  t.equal(count('miss-fetch-error'), 1)
  api.set('broken', ns('broken'))
  t.equal((await lookup.get('broken'))?.name, 'broken')
  t.same(reads, ['broken', 'broken'])
})

t.test('sweeping remembered absences drops the expired ones and keeps the fresh', async t => {
  const { timers, lookup, reads, sync } = setup({ absentMs: 10 })
  await sync()
  for (let i = 0; i < 999; i++) await lookup.get(`missing-${i}`)
  timers.advance(5)
  await lookup.get('fresh')
  timers.advance(5)
  await lookup.get('trigger')
  timers.advance(2)
  await lookup.get('fresh')
  t.equal(reads.filter(r => r === 'fresh').length, 1, 'the unexpired absence survived the sweep')
  await lookup.get('missing-0')
  t.equal(reads.filter(r => r === 'missing-0').length, 2, 'an expired one is read again')
})

/** A loopback API server for Namespaces: one list, open watches the test writes to, and reads. */
async function fakeApiServer (test: Pick<typeof t, 'teardown'>) {
  const watches: http.ServerResponse[] = []
  const watchUrls: URL[] = []
  const reads: string[] = []
  let lists = 0
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (url.pathname === '/api/v1/namespaces' && url.searchParams.get('watch') === 'true') {
      watchUrls.push(url)
      watches.push(res.writeHead(200, { 'content-type': 'application/json' }))
      res.flushHeaders()
    } else if (url.pathname === '/api/v1/namespaces') {
      lists++
      json(200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [ns('listed', { a: 'b' })] })
    } else {
      const name = url.pathname.split('/').at(-1)!
      reads.push(name)
      if (name === 'late') json(200, ns('late'))
      else if (name === 'broken') json(500, { kind: 'Status', code: 500, message: 'boom' })
      else json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 })
    }
  })
  const kc = await kubeClientFor(test, server)
  const added = (name: string, resourceVersion: string): string =>
    JSON.stringify({ type: 'ADDED', object: { ...ns(name), metadata: { name, resourceVersion } } }) + '\n'
  return { kc, watches, watchUrls, reads, lists: () => lists, added }
}

t.test('the cluster wiring lists, watches and reads through the small client', async t => {
  const { kc, watches, watchUrls, reads, added } = await fakeApiServer(t)
  const lookup = createClusterNamespaces(kc, logger)
  t.teardown(() => lookup.close())
  await waitFor(() => lookup.ready())
  t.equal(watchUrls[0]?.searchParams.get('allowWatchBookmarks'), 'true')
  t.equal(watchUrls[0]?.searchParams.get('resourceVersion'), '7', 'watches from the list')
  t.same((await lookup.get('listed'))?.labels, { a: 'b' })
  t.equal((await lookup.get('late'))?.name, 'late')
  t.equal(await lookup.get('gone'), undefined)
  await t.rejects(lookup.get('broken'), /namespace "broken" is not in the cache/)
  watches[0]!.write(added('gone', '8'))
  await waitFor(async () => (await lookup.get('gone')) !== undefined)
  t.same(reads, ['late', 'gone', 'broken'], 'the watch, not a read, delivered "gone"')
  const closed = once(watches[0]!, 'close')
  await lookup.close()
  await closed
  t.pass('close ends the watch connection')
})

t.test('over the small client, a cut watch and a silent one are both resumed without relisting', async t => {
  const { kc, watches, watchUrls, lists, added } = await fakeApiServer(t)
  const lookup = createClusterNamespaces(kc, logger, { silenceMs: 300, backoff: { initialMs: 20 } })
  t.teardown(() => lookup.close())
  await waitFor(() => lookup.ready())
  watches[0]!.write(added('a', '8'))
  await waitFor(async () => (await lookup.get('a')) !== undefined)
  watches[0]!.destroy()
  await waitFor(() => watches.length === 2)
  t.equal(watchUrls[1]?.searchParams.get('resourceVersion'), '8', 'a cut watch resumes from the last event')
  const silentClosed = once(watches[1]!, 'close')
  await waitFor(() => watches.length === 3)
  await silentClosed
  t.pass('a silent watch is closed and opened again')
  watches[2]!.write(added('b', '9'))
  await waitFor(async () => (await lookup.get('b')) !== undefined)
  t.equal(lists(), 1, 'listed only once')
  t.ok(lookup.ready())
})

/** Polls an outcome (not a fixed sleep) until it holds, failing after 5 s. */
async function waitFor (check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
