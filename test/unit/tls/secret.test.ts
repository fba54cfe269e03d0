import t, { type Test } from 'tap'
import pino from 'pino'
import type { KubeClient } from '../../../src/kube/client.js'
import type { ObjectWatchOptions } from '../../../src/kube/object-watch.js'
import { pairOfSecret, watchSecretKeyPair, type SecretObject } from '../../../src/tls/secret.js'
import { createSelfSignedKeyPair } from '../../../src/tls/key-pair.js'
import type { KeyPair } from '../../../src/admission/types.js'

const placeholder = await createSelfSignedKeyPair()
const first = await createSelfSignedKeyPair({ dnsNames: ['first'] })
const second = await createSelfSignedKeyPair({ dnsNames: ['second'] })
const b64 = (text: string): string => Buffer.from(text).toString('base64')
const secretOf = (pair: KeyPair, ca?: string): SecretObject => ({ data: { 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key), ...ca === undefined ? {} : { 'ca.crt': b64(ca) } } })
const kube = {} as KubeClient

/** The source over a watch the test drives: `change` is what the API server's watch would deliver. */
function source (t: Test): { pairs: KeyPair[], change: (secret: SecretObject | undefined) => void, options: () => ObjectWatchOptions<SecretObject>, closed: () => boolean, lines: string[], secret: ReturnType<typeof watchSecretKeyPair> } {
  let options: ObjectWatchOptions<SecretObject> | undefined
  let closed = false
  const lines: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  const secret = watchSecretKeyPair({ kube, namespace: 'lameduck-system', name: 'lameduck-tls', placeholder, logger, watch: o => { options = o; return { synced: () => true, close: async () => { closed = true } } } })
  const pairs: KeyPair[] = []
  secret.onChange(pair => pairs.push(pair))
  t.teardown(() => { secret.close() })
  return { pairs, change: s => { options!.onChange(s) }, options: () => options!, closed: () => closed, lines, secret }
}

t.test('pairOfSecret: the pair, its CAs, or why there is none', async t => {
  t.equal(pairOfSecret(undefined, 'Secret a/b'), 'Secret a/b does not exist')
  t.equal(pairOfSecret({}, 'Secret a/b'), 'Secret a/b holds no key pair yet (tls.crt, tls.key)', 'shipped empty')
  t.equal(pairOfSecret({ data: { 'tls.crt': b64(first.cert), 'tls.key': '' } }, 'S'), 'S holds no key pair yet (tls.crt, tls.key)')
  t.same(pairOfSecret(secretOf(first, 'CA'), 'S'), { pair: first, ca: 'CA' })
  t.same(pairOfSecret(secretOf(first), 'S'), { pair: first, ca: undefined })
})

t.test('the placeholder until the Secret holds a pair; then the pair, at once, to every listener', async t => {
  const { pairs, change, options, secret, lines } = source(t)
  t.match(options(), { collection: '/api/v1/namespaces/lameduck-system/secrets', name: 'lameduck-tls', what: 'Secret lameduck-system/lameduck-tls' }, 'one Secret, by name')
  t.equal(secret.current(), placeholder)
  t.equal(secret.pending(), 'Secret lameduck-system/lameduck-tls not read yet')
  t.equal(secret.fromSecret(), undefined)
  change({ metadata: { name: 'lameduck-tls' } })
  t.equal(secret.pending(), 'Secret lameduck-system/lameduck-tls holds no key pair yet (tls.crt, tls.key)', 'shipped empty: the renewal fills it')
  t.equal(secret.current(), placeholder)
  change(secretOf(first, 'CA'))
  t.same(secret.current(), first)
  t.equal(secret.pending(), undefined)
  t.same(secret.fromSecret(), { pair: first, ca: 'CA' })
  t.same(pairs, [first])
  t.match(lines.join(''), /"msg":"TLS key pair loaded from the Secret"/)
  change(secretOf(first, 'CA2'))
  t.same(pairs, [first], 'the same pair again (another key changed): no switch')
  t.same(secret.fromSecret(), { pair: first, ca: 'CA2' }, 'its CAs as they are now')
  change(secretOf(second))
  t.same(secret.current(), second)
  t.same(pairs, [first, second])
})

t.test('a deleted or emptied Secret, or an unusable pair, never replaces the pair in use', async t => {
  const { pairs, change, secret, lines } = source(t)
  change(secretOf({ cert: first.cert, key: second.key }))
  t.match(secret.pending(), /^TLS key Secret lameduck-system\/lameduck-tls tls.key does not match certificate Secret lameduck-system\/lameduck-tls tls.crt$/, 'why not ready, before any pair')
  change(secretOf(first))
  change(undefined)
  change({})
  change(secretOf({ cert: 'garbage', key: first.key }))
  t.same(secret.current(), first)
  t.equal(secret.pending(), undefined)
  t.same(pairs, [first])
  t.match(lines.join(''), /keeping the key pair in use/)
  t.match(lines.join(''), /the Secret's key pair is unusable; keeping the one in use/)
})

t.test('close() stops the watch and the listeners', async t => {
  const { pairs, change, closed, secret } = source(t)
  secret.close()
  t.equal(closed(), true)
  change(secretOf(first))
  t.same(pairs, [], 'no listener called after close')
  const off = secret.onChange(() => { t.fail('unsubscribed') })
  off()
  change(secretOf(second))
})

t.test('by default, through a watch of the Secret over the client', async t => {
  const paths: string[] = []
  const listing = {
    server: 'https://api',
    request: async <T>(_method: string, path: string): Promise<T> => { paths.push(path); return { items: [secretOf(first)], metadata: { resourceVersion: '1' } } as T },
    watch: async (_path: string, _onEvent: unknown, signal: AbortSignal) => ({ ended: new Promise<void>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(new Error('aborted')) }) }) }),
    close: async () => {}
  } as unknown as KubeClient
  const secret = watchSecretKeyPair({ kube: listing, namespace: 'ns', name: 'pair', placeholder, logger: pino({ level: 'silent' }) })
  for (let i = 0; i < 100 && secret.pending() !== undefined; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(secret.current(), first)
  t.same(paths, ['/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dpair'])
  secret.close()
})
