import t from 'tap'
import pino from 'pino'
import type { KubeClient } from '../../../src/kube/client.js'
import { listingKube } from '../../helpers/kube-client.js'
import type { ObjectWatchOptions } from '../../../src/kube/object-watch.js'
import { distrust, watchTrust, type WebhookConfigurationObject } from '../../../src/tls/trust.js'
import { createCa, issueServing } from '../../../src/certs/pki.js'
import type { KeyPair } from '../../../src/admission/types.js'

const now = new Date()
const ca = await createCa({ validityMs: 86_400_000, now })
const otherCa = await createCa({ validityMs: 86_400_000, now: new Date(now.getTime() + 1000) })
const svc = 'lameduck.lameduck-system.svc'
const serving = await issueServing(ca, { commonName: svc, dnsNames: [svc], validityMs: 3_600_000, now })
const b64 = (text: string): string => Buffer.from(text).toString('base64')
const webhook = (bundle: string, i: number): { name: string, clientConfig: { caBundle: string } } =>
  ({ name: `hook${i}.lameduck.dev`, clientConfig: { caBundle: b64(bundle) } })
const config = (...bundles: string[]): WebhookConfigurationObject => ({ webhooks: bundles.map(webhook) })

t.test('distrust: trusted when every webhook\'s caBundle holds the CA that signed it; otherwise why not', async t => {
  t.equal(distrust(serving.cert, config(ca.cert), 'lameduck'), undefined)
  const rotating = config(otherCa.cert + ca.cert, ca.cert)
  t.equal(distrust(serving.cert, rotating, 'lameduck'), undefined, 'during a rotation: two CAs in the bundle')
  t.equal(distrust(serving.cert, undefined, 'lameduck'), 'MutatingWebhookConfiguration lameduck does not exist')
  t.equal(distrust(serving.cert, {}, 'lameduck'), 'MutatingWebhookConfiguration lameduck has no webhooks')
  const why = /^the caBundle of MutatingWebhookConfiguration lameduck \(hook1.lameduck.dev\) does not trust the served certificate, issued by CN=lameduck-ca@\d+$/
  t.match(distrust(serving.cert, config(ca.cert, otherCa.cert), 'lameduck'), why)
  const bare = { webhooks: [{ clientConfig: {} }] }
  t.match(distrust(serving.cert, bare, 'x'), /\(\?\) does not trust/, 'no caBundle, no name')
  const garbage = config('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  t.match(distrust(serving.cert, garbage, 'x'), /does not trust/, 'a bundle that does not parse trusts nothing')
  t.match(distrust(serving.cert, config(serving.cert), 'x'), /does not trust/, 'the certificate itself is no CA of it')
})

/** watchTrust over a watch the test drives. */
interface Driven {
  change: (config: WebhookConfigurationObject | undefined) => void
  trust: ReturnType<typeof watchTrust>
  distrusted: () => number
  lines: string[]
  options: () => ObjectWatchOptions<WebhookConfigurationObject>
}

function trustOf (served: () => KeyPair | undefined): Driven {
  let options: ObjectWatchOptions<WebhookConfigurationObject> | undefined
  let distrusted = 0
  const lines: string[] = []
  const trust = watchTrust({
    kube: {} as KubeClient,
    name: 'lameduck',
    served,
    logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } }),
    onDistrust: () => { distrusted++ },
    watch: o => { options = o; return { synced: () => true, close: async () => {} } }
  })
  return { change: c => { options!.onChange(c) }, trust, distrusted: () => distrusted, lines, options: () => options! }
}

t.test('ready only once the caBundle read trusts the pair served; the renewal is woken when it does not', async t => {
  let served: KeyPair | undefined
  const { change, trust, distrusted, lines, options } = trustOf(() => served)
  const collection = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'
  t.match(options(), { collection, name: 'lameduck' })
  t.same(trust.notReady(), [], 'no pair from the Secret yet: that is the Secret\'s reason, not this one')
  served = serving
  t.same(trust.notReady(), ['the caBundle of MutatingWebhookConfiguration lameduck not read yet'])
  change(config(''))
  t.match(trust.notReady(), [/does not trust the served certificate/], 'installed, the caBundle not written yet')
  t.equal(distrusted(), 1)
  change(config(ca.cert))
  t.same(trust.notReady(), [])
  t.match(lines.join(''), /the caBundle trusts the served certificate: ready/)
  change(config(ca.cert))
  t.equal(distrusted(), 1, 'no change, no new call')
  change(config(otherCa.cert))
  t.equal(distrusted(), 2, 'someone replaced the caBundle: the renewal puts the CA back')
  t.match(lines.join(''), /the served certificate is not trusted: not ready/)
  served = undefined
  trust.check()
  t.equal(distrusted(), 2, 'nothing to judge without a pair')
  await trust.close()
})

t.test('by default, through a watch of the webhook configuration over the client', async t => {
  const paths: string[] = []
  const kube = listingKube([config(ca.cert)], paths)
  const trust = watchTrust({ kube, name: 'lameduck', served: () => serving, logger: pino({ level: 'silent' }) })
  for (let i = 0; i < 100 && trust.notReady().length > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(trust.notReady(), [])
  const collection = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'
  t.same(paths, [`${collection}?fieldSelector=metadata.name%3Dlameduck`])
  await trust.close()
})
