import t from 'tap'
import { CA_SINCE_ANNOTATION, caSecretFor, holds, readSecrets, servingSecretFor } from '../../../src/certs/secrets.js'
import type { ClusterApi, SecretContent } from '../../../src/certs/cluster-api.js'

const names = { namespace: 'lameduck-system', secret: 'lameduck-tls', caSecret: 'lameduck-ca' }
const ca = { cert: 'CA CERT\n', key: 'CA KEY\n' }
const serving = { cert: 'TLS CERT\n', key: 'TLS KEY\n' }
const since = new Date('2030-01-02T03:04:05.000Z')

/** Only readSecret is called; the rest fail loudly if used. */
function apiWith (secrets: Record<string, SecretContent>): ClusterApi {
  const unused = (): never => { throw new Error('not expected') }
  return {
    server: 'https://test',
    readSecret: async (namespace, name) => secrets[`${namespace}/${name}`],
    writeSecret: unused,
    readWebhookConfiguration: unused,
    writeCaBundle: unused
  }
}

t.test('the serving Secret is kubernetes.io/tls with ca.crt and when the CA took over', async t => {
  t.same(servingSecretFor(serving, ca, since), {
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'TLS CERT\n', 'tls.key': 'TLS KEY\n', 'ca.crt': 'CA CERT\n' },
    annotations: { 'lameduck.dev/ca-since': '2030-01-02T03:04:05.000Z' }
  })
  t.equal(CA_SINCE_ANNOTATION, 'lameduck.dev/ca-since')
  t.same(caSecretFor(ca), { type: 'kubernetes.io/tls', data: { 'tls.crt': 'CA CERT\n', 'tls.key': 'CA KEY\n' }, annotations: {} })
})

t.test('reads back what it writes', async t => {
  const stored = await readSecrets(apiWith({
    'lameduck-system/lameduck-tls': servingSecretFor(serving, ca, since),
    'lameduck-system/lameduck-ca': caSecretFor(ca)
  }), names)
  t.same(stored.serving, serving)
  t.same(stored.ca, ca)
  t.same(stored.caSince, since)
  t.same(stored.servingSecret, servingSecretFor(serving, ca, since))
  t.same(stored.caSecretContent, caSecretFor(ca))
})

t.test('no Secrets: no pairs', async t => {
  t.same(await readSecrets(apiWith({}), names), {
    serving: undefined,
    ca: undefined,
    caSince: undefined,
    servingSecret: undefined,
    caSecretContent: undefined
  })
})

t.test('Secrets shipped empty (the chart\'s: Opaque, no data, or keys with empty values) hold no pair', async t => {
  const empty = { type: 'Opaque', data: {}, annotations: {} }
  const blank = { type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' }, annotations: {} }
  for (const secret of [empty, blank]) {
    const api = apiWith({ 'lameduck-system/lameduck-tls': secret, 'lameduck-system/lameduck-ca': secret })
    const stored = await readSecrets(api, names)
    t.equal(stored.serving, undefined)
    t.equal(stored.ca, undefined, 'a run makes both')
  }
})

t.test("without the CA Secret, the serving Secret's ca.crt is a CA without a key; a bad annotation is no time", async t => {
  const fromElsewhere: SecretContent = { type: 'kubernetes.io/tls', data: { 'tls.crt': serving.cert, 'ca.crt': ca.cert }, annotations: { [CA_SINCE_ANNOTATION]: 'yesterday' } }
  const stored = await readSecrets(apiWith({ 'lameduck-system/lameduck-tls': fromElsewhere }), names)
  t.same(stored.ca, { cert: ca.cert, key: '' })
  t.same(stored.serving, { cert: serving.cert, key: '' })
  t.equal(stored.caSince, undefined)
  const noCa = await readSecrets(apiWith({ 'lameduck-system/lameduck-tls': { type: 'Opaque', data: {}, annotations: {} } }), names)
  t.equal(noCa.ca, undefined)
  t.equal(noCa.serving, undefined)
})

t.test('holds: the wanted data and annotations are there (extra ones, and the type, do not matter)', async t => {
  const wanted = servingSecretFor(serving, ca, since)
  t.equal(holds(undefined, wanted), false)
  t.equal(holds(wanted, wanted), true)
  t.equal(holds({ ...wanted, data: { ...wanted.data, extra: 'x' }, annotations: { ...wanted.annotations, owner: 'me' } }, wanted), true)
  t.equal(holds({ ...wanted, type: 'Opaque' }, wanted), true, 'an Opaque Secret (shipped empty by the chart) holding the pair')
  t.equal(holds({ ...wanted, data: { ...wanted.data, 'ca.crt': 'OTHER' } }, wanted), false)
  t.equal(holds({ ...wanted, annotations: {} }, wanted), false)
})
