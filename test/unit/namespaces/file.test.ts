import t from 'tap'
import { readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { createFileNamespaces, parseNamespaces, type FileNamespacesOptions } from '../../../src/namespaces/file.js'
import type { WatchDirectory } from '../../../src/common/watched-files.js'

const logger = pino({ level: 'silent' })

const shopYaml = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: { lameduck.dev/inject: enabled }
  annotations: { lameduck.dev/prestop-sleep: 20s }
`
const shop = { name: 'shop', labels: { 'lameduck.dev/inject': 'enabled' }, annotations: { 'lameduck.dev/prestop-sleep': '20s' } }
const bare = (name: string): object => ({ name, labels: {}, annotations: {} })

t.test('reads every format the flag accepts', async t => {
  const cases: Array<[string, string, object[]]> = [
    ['one Namespace', shopYaml, [shop]],
    ['a List', `kind: List\napiVersion: v1\nitems:\n  - ${JSON.stringify({ kind: 'Namespace', metadata: { name: 'a' } })}\n  - { kind: Namespace, metadata: { name: b } }\n`, [bare('a'), bare('b')]],
    ['several documents, empty ones skipped', `---\n${shopYaml}---\n# a comment\n---\nkind: Namespace\nmetadata: { name: b }\n---\n`, [shop, bare('b')]],
    ['JSON', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: shop.labels, annotations: shop.annotations } }), [shop]],
    ['a JSON NamespaceList', JSON.stringify({ kind: 'NamespaceList', items: [{ kind: 'Namespace', metadata: { name: 'a', labels: null } }] }), [bare('a')]]
  ]
  for (const [name, text, expected] of cases) t.same(parseNamespaces(text, 'ns.yaml'), expected, name)
  const [first] = parseNamespaces(shopYaml, 'ns.yaml')
  t.ok(Object.isFrozen(first) && Object.isFrozen(first?.labels), 'frozen')
})

t.test('names the file, the document and what is wrong', async t => {
  const ns = (name: string, extra = ''): string => `kind: Namespace\nmetadata:\n  name: ${name}\n${extra}`
  const cases: Array<[string, string, RegExp]> = [
    ['YAML syntax', 'a: [', /^ns\.yaml: document 1: Flow sequence .* at line 1, column 5$/],
    ['syntax in a later document', `${ns('a')}---\nb: [`, /^ns\.yaml: document 2: .*line 5/],
    ['JSON syntax', '{"kind": "Namespace",', /^ns\.yaml: document 1: Flow map must end with a \}/],
    ['an unknown alias', 'kind: *nothing', /^ns\.yaml: document 1: Unresolved alias/],
    ['another kind', 'kind: Pod\nmetadata: { name: x }', /^ns\.yaml: document 1: not a Namespace: kind "Pod"$/],
    ['no kind', 'metadata: { name: x }', /document 1: not a Namespace: no kind$/],
    ['a list at the top', '- a\n- b', /document 1: not a Namespace: expected an object, got a list$/],
    ['a scalar', 'hello', /document 1: not a Namespace: expected an object, got a string \("hello"\)$/],
    ['no metadata', 'kind: Namespace', /document 1: missing metadata\.name$/],
    ['a name that is not a string', 'kind: Namespace\nmetadata: { name: 5 }', /missing metadata\.name$/],
    ['an unquoted number', ns('shop', '  annotations:\n    lameduck.dev/prestop-sleep: 20\n'),
      /document 1 \(namespace "shop"\): metadata\.annotations\["lameduck\.dev\/prestop-sleep"\] is a number \(20\), not a string: quote it$/],
    ['a label that is a boolean', ns('shop', '  labels: { team: yes }\n'), /metadata\.labels\["team"\] is a boolean \(true\), not a string/],
    ['a label that is null', ns('shop', '  labels: { team: }\n'), /metadata\.labels\["team"\] is null, not a string/],
    ['a label that is a mapping', ns('shop', '  labels: { team: { x: y } }\n'), /metadata\.labels\["team"\] is a mapping, not a string/],
    ['annotations not a mapping', ns('shop', '  annotations: [a]\n'), /metadata\.annotations is not a mapping \(got a list\)$/],
    ['a duplicate', `${ns('a')}---\nkind: List\nitems: [{ kind: Namespace, metadata: { name: a } }]`, /^ns\.yaml: document 2, item 1: duplicate namespace "a" \(first in document 1\)$/],
    ['a List without items', 'kind: List', /document 1: a List without an items list$/],
    ['a bad List item', 'kind: NamespaceList\nitems: [{ kind: Pod }]', /document 1, item 1: not a Namespace: kind "Pod"$/],
    ['no Namespace at all', '# nothing\n---\n', /^ns\.yaml: holds no Namespace$/],
    ['an empty file', '', /^ns\.yaml: holds no Namespace$/]
  ]
  for (const [name, text, message] of cases) t.throws(() => parseNamespaces(text, 'ns.yaml'), { message }, name)
})

t.test('the example file holds the three sample namespaces', async t => {
  const path = new URL('../../../examples/namespaces.yaml', import.meta.url)
  const byName = new Map(parseNamespaces(await readFile(path, 'utf8'), 'namespaces.yaml').map(ns => [ns.name, ns]))
  t.same([...byName.keys()], ['shop', 'payments', 'legacy'])
  t.same(byName.get('shop')?.labels, { 'lameduck.dev/inject': 'enabled' })
  t.same(byName.get('shop')?.annotations, { 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' })
  t.match(byName.get('payments'), {
    labels: { 'lameduck.dev/inject': 'enabled' },
    annotations: { 'lameduck.dev/prestop-handler': 'exec', 'lameduck.dev/containers': 'web,api', 'lameduck.dev/prestop-sleep': String }
  })
  t.same(byName.get('legacy'), bare('legacy'))
})

/** A lookup over a fresh directory; `next()` resolves at the next onReload call. */
async function open (test: Pick<typeof t, 'testdir' | 'teardown'>, text: string, options: Partial<FileNamespacesOptions> = {}) {
  const dir = test.testdir({ 'ns.yaml': text })
  const path = join(dir, 'ns.yaml')
  const waiting: Array<(e: Error | undefined) => void> = []
  const happened: Array<Error | undefined> = []
  const lookup = await createFileNamespaces({
    path,
    logger,
    pollIntervalMs: 3_600_000,
    onReload: e => { const w = waiting.shift(); if (w === undefined) happened.push(e); else w(e) },
    ...options
  })
  test.teardown(() => lookup.close())
  const next = async (): Promise<Error | undefined> =>
    happened.length > 0 ? happened.shift() : await new Promise(resolve => waiting.push(resolve))
  // Write next to it and rename over, as editors and kubectl do, so no reader sees a half-written file.
  const replace = async (content: string): Promise<void> => {
    await writeFile(`${path}.tmp`, content)
    await rename(`${path}.tmp`, path)
  }
  return { dir, path, lookup, next, replace }
}

t.test('ready at once, answering from the file', async t => {
  const { lookup } = await open(t, shopYaml)
  t.equal(lookup.ready(), true)
  t.same(await lookup.get('shop'), shop)
  t.equal(await lookup.get('other'), undefined)
})

t.test('a file that is missing or bad at start is an error', async t => {
  await t.rejects(createFileNamespaces({ path: '/nonexistent/ns.yaml', logger }), { message: /^cannot read the namespaces file: ENOENT/ })
  const dir = t.testdir({ 'bad.yaml': 'kind: Pod' })
  await t.rejects(createFileNamespaces({ path: join(dir, 'bad.yaml'), logger }), { message: /bad\.yaml: document 1: not a Namespace: kind "Pod"/ })
})

t.test('a change is picked up by watching', async t => {
  const { lookup, next, replace } = await open(t, shopYaml)
  await replace('kind: Namespace\nmetadata: { name: other }')
  t.equal(await next(), undefined)
  t.equal(await lookup.get('shop'), undefined)
  t.same(await lookup.get('other'), bare('other'))
})

t.test('a bad version is reported once and the previous one kept; a good one replaces it', async t => {
  const { lookup, next, replace } = await open(t, shopYaml)
  await replace('kind: Namespace\nmetadata: { name: a, labels: { size: 1 } }')
  t.match(await next(), { message: /ns\.yaml: document 1 \(namespace "a"\): metadata\.labels\["size"\] is a number/ })
  t.same(await lookup.get('shop'), shop)
  await replace('kind: Namespace\nmetadata: { name: b }')
  t.equal(await next(), undefined)
  t.same(await lookup.get('b'), bare('b'))
})

t.test('a file that disappears keeps the previous version until it is back', async t => {
  const { path, lookup, next, replace } = await open(t, shopYaml)
  await rm(path)
  t.match(await next(), { message: /^cannot read the namespaces file: ENOENT/, cause: { code: 'ENOENT' } })
  t.same(await lookup.get('shop'), shop)
  await replace(shopYaml)
  await replace('kind: Namespace\nmetadata: { name: back }')
  t.equal(await next(), undefined, 'the same content back is no change; a new one is loaded')
  t.ok(await lookup.get('back'))
})

t.test('a ConfigMap volume swapping its ..data symlink is picked up', async t => {
  const dir = t.testdir({ '..v1': { 'ns.yaml': shopYaml }, '..v2': { 'ns.yaml': 'kind: Namespace\nmetadata: { name: v2 }' } })
  await symlink('..v1', join(dir, '..data'))
  await symlink('..data/ns.yaml', join(dir, 'ns.yaml'))
  const waiting: Array<() => void> = []
  const lookup = await createFileNamespaces({ path: join(dir, 'ns.yaml'), logger, pollIntervalMs: 3_600_000, onReload: () => waiting.shift()?.() })
  t.teardown(() => lookup.close())
  const reloaded = new Promise<void>(resolve => waiting.push(resolve))
  await symlink('..v2', join(dir, '..data_tmp'))
  await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  await reloaded
  t.same(await lookup.get('v2'), bare('v2'))
})

t.test('polling carries on when watching cannot start', async t => {
  const failing: WatchDirectory = () => { throw new Error('ENOSPC: inotify watch limit reached') }
  const { lookup, next, replace } = await open(t, shopYaml, { watch: failing, pollIntervalMs: 10 })
  await replace('kind: Namespace\nmetadata: { name: polled }')
  t.equal(await next(), undefined)
  t.ok(await lookup.get('polled'))
})

t.test('polling carries on when watching fails later; close stops it all', async t => {
  let fail: (err: Error) => void = () => {}
  let change: () => void = () => {}
  let closes = 0
  const fake: WatchDirectory = (_dir, onChange, onError) => {
    change = onChange
    fail = onError
    return {
      close: () => {
        closes++
      }
    }
  }
  const { lookup, next, replace } = await open(t, shopYaml, { watch: fake, pollIntervalMs: 10 })
  fail(new Error('watcher died'))
  t.equal(closes, 1, 'the failed watcher is closed')
  await replace('kind: Namespace\nmetadata: { name: polled }')
  t.equal(await next(), undefined)
  await lookup.close()
  t.equal(lookup.ready(), false)
  await replace('kind: Namespace\nmetadata: { name: after-close }')
  change()
  await lookup.close()
  t.equal(await lookup.get('after-close'), undefined, 'no reload after close')
  t.equal(closes, 1, 'nothing left to close')
})

t.test('a burst of changes is read in one go', async t => {
  let change: () => void = () => {}
  const fake: WatchDirectory = (_dir, onChange) => { change = onChange; return { close: () => {} } }
  const { lookup, next, replace } = await open(t, shopYaml, { watch: fake })
  await replace('kind: Namespace\nmetadata: { name: burst }')
  change(); change(); change()
  t.equal(await next(), undefined)
  t.ok(await lookup.get('burst'))
})

t.test('works without an onReload callback', async t => {
  const dir = t.testdir({ 'ns.yaml': shopYaml })
  const path = join(dir, 'ns.yaml')
  const lookup = await createFileNamespaces({ path, logger, pollIntervalMs: 10 })
  t.teardown(() => lookup.close())
  await writeFile(`${path}.tmp`, 'kind: Namespace\nmetadata: { name: later }')
  await rename(`${path}.tmp`, path)
  const deadline = Date.now() + 5000
  while (await lookup.get('later') === undefined && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
  t.ok(await lookup.get('later'), 'the polled change arrived')
})
