import t, { type Test } from 'tap'
import pino from 'pino'
import type { KubeClient } from '../../../src/kube/client.js'
import { listingKube } from '../../helpers/kube-client.js'
import type { ObjectWatch, ObjectWatchOptions } from '../../../src/kube/object-watch.js'
import { pairOfSecret, watchSecretKeyPair, type SecretObject } from '../../../src/tls/secret.js'
import { createSelfSignedKeyPair } from '../../../src/tls/key-pair.js'
import type { KeyPair } from '../../../src/admission/types.js'

const placeholder = await createSelfSignedKeyPair()
const first = await createSelfSignedKeyPair({ dnsNames: ['first'] })
const second = await createSelfSignedKeyPair({ dnsNames: ['second'] })
const b64 = (text: string): string => Buffer.from(text).toString('base64')
const secretOf = (pair: KeyPair, ca?: string): SecretObject =>
  ({ data: { 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key), ...ca === undefined ? {} : { 'ca.crt': b64(ca) } } })
const kube = {} as KubeClient

/** The source over a watch the test drives: `change` is what the API server's watch would deliver. */
interface Driven {
  pairs: KeyPair[]
  change: (secret: SecretObject | undefined) => void
  options: () => ObjectWatchOptions<SecretObject>
  closed: () => boolean
  lines: string[]
  secret: ReturnType<typeof watchSecretKeyPair>
}

function source (t: Test): Driven {
  let options: ObjectWatchOptions<SecretObject> | undefined
  let closed = false
  const lines: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  const watch = (o: ObjectWatchOptions<SecretObject>): ObjectWatch => {
    options = o
    return { synced: () => true, close: async () => { closed = true } }
  }
  const names = { namespace: 'lameduck-system', name: 'lameduck-tls' }
  const secret = watchSecretKeyPair({ kube, ...names, placeholder, logger, watch })
  const pairs: KeyPair[] = []
  secret.onChange(pair => pairs.push(pair))
  t.teardown(() => { secret.close() })
  return { pairs, change: s => { options!.onChange(s) }, options: () => options!, closed: () => closed, lines, secret }
}

t.test('pairOfSecret: the pair, its CAs, or why there is none', async t => {
  t.equal(pairOfSecret(undefined, 'Secret a/b'), 'Secret a/b does not exist')
  t.equal(pairOfSecret({}, 'Secret a/b'), 'Secret a/b holds no key pair yet (tls.crt, tls.key)', 'shipped empty')
  const keyless = { data: { 'tls.crt': b64(first.cert), 'tls.key': '' } }
  t.equal(pairOfSecret(keyless, 'S'), 'S holds no key pair yet (tls.crt, tls.key)')
  t.same(pairOfSecret(secretOf(first, 'CA'), 'S'), { pair: first, ca: 'CA' })
  t.same(pairOfSecret(secretOf(first), 'S'), { pair: first, ca: undefined })
})

t.test('the placeholder until the Secret holds a pair; then the pair, at once, to every listener', async t => {
  const { pairs, change, options, secret, lines } = source(t)
  const watched = { collection: '/api/v1/namespaces/lameduck-system/secrets', name: 'lameduck-tls', what: 'Secret lameduck-system/lameduck-tls' }
  t.match(options(), watched, 'one Secret, by name')
  t.equal(secret.current(), placeholder)
  t.equal(secret.pending(), 'Secret lameduck-system/lameduck-tls not read yet')
  t.equal(secret.fromSecret(), undefined)
  change({ metadata: { name: 'lameduck-tls' } })
  t.equal(secret.pending(), 'Secret lameduck-system/lameduck-tls holds no key pair yet (tls.crt, tls.key)',
    'shipped empty: the renewal fills it')
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
  const mismatch = /^TLS key Secret lameduck-system\/lameduck-tls tls.key does not match certificate Secret lameduck-system\/lameduck-tls tls.crt$/
  t.match(secret.pending(), mismatch, 'why not ready, before any pair')
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
  const listing = listingKube([secretOf(first)], paths)
  const logger = pino({ level: 'silent' })
  const secret = watchSecretKeyPair({ kube: listing, namespace: 'ns', name: 'pair', placeholder, logger })
  for (let i = 0; i < 100 && secret.pending() !== undefined; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(secret.current(), first)
  t.same(paths, ['/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dpair'])
  secret.close()
})
