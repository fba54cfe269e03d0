import t from 'tap'
import pino from 'pino'
import type { KubeClient } from '../../../src/kube/client.js'
import type { ObjectWatchOptions } from '../../../src/kube/object-watch.js'
import { distrust, watchTrust, type WebhookConfigurationObject } from '../../../src/tls/trust.js'
import { createCa, issueServing } from '../../../src/certs/pki.js'
import type { KeyPair } from '../../../src/admission/types.js'

const now = new Date()
const ca = await createCa({ validityMs: 86_400_000, now })
const otherCa = await createCa({ validityMs: 86_400_000, now: new Date(now.getTime() + 1000) })
const serving = await issueServing(ca, { commonName: 'lameduck.lameduck-system.svc', dnsNames: ['lameduck.lameduck-system.svc'], validityMs: 3_600_000, now })
const b64 = (text: string): string => Buffer.from(text).toString('base64')
const config = (...bundles: string[]): WebhookConfigurationObject => ({ webhooks: bundles.map((bundle, i) => ({ name: `hook${i}.lameduck.dev`, clientConfig: { caBundle: b64(bundle) } })) })

t.test('distrust: trusted when every webhook\'s caBundle holds the CA that signed it; otherwise why not', async t => {
  t.equal(distrust(serving.cert, config(ca.cert), 'lameduck'), undefined)
  t.equal(distrust(serving.cert, config(otherCa.cert + ca.cert, ca.cert), 'lameduck'), undefined, 'during a rotation: two CAs in the bundle')
  t.equal(distrust(serving.cert, undefined, 'lameduck'), 'MutatingWebhookConfiguration lameduck does not exist')
  t.equal(distrust(serving.cert, {}, 'lameduck'), 'MutatingWebhookConfiguration lameduck has no webhooks')
  t.match(distrust(serving.cert, config(ca.cert, otherCa.cert), 'lameduck'), /^the caBundle of MutatingWebhookConfiguration lameduck \(hook1.lameduck.dev\) does not trust the served certificate, issued by CN=lameduck-ca@\d+$/)
  t.match(distrust(serving.cert, { webhooks: [{ clientConfig: {} }] }, 'x'), /\(\?\) does not trust/, 'no caBundle, no name')
  t.match(distrust(serving.cert, config('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'x'), /does not trust/, 'a bundle that does not parse trusts nothing')
  t.match(distrust(serving.cert, config(serving.cert), 'x'), /does not trust/, 'the certificate itself is no CA of it')
})

/** watchTrust over a watch the test drives. */
function trustOf (served: () => KeyPair | undefined): { change: (config: WebhookConfigurationObject | undefined) => void, trust: ReturnType<typeof watchTrust>, distrusted: () => number, lines: string[], options: () => ObjectWatchOptions<WebhookConfigurationObject> } {
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
  t.match(options(), { collection: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', name: 'lameduck' })
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
  const kube = {
    server: 'https://api',
    request: async <T>(_method: string, path: string): Promise<T> => { paths.push(path); return { items: [config(ca.cert)], metadata: { resourceVersion: '1' } } as T },
    watch: async (_path: string, _onEvent: unknown, signal: AbortSignal) => ({ ended: new Promise<void>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(new Error('aborted')) }) }) }),
    close: async () => {}
  } as unknown as KubeClient
  const trust = watchTrust({ kube, name: 'lameduck', served: () => serving, logger: pino({ level: 'silent' }) })
  for (let i = 0; i < 100 && trust.notReady().length > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(trust.notReady(), [])
  t.same(paths, ['/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?fieldSelector=metadata.name%3Dlameduck'])
  await trust.close()
})
