import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renewOnce, type Deps } from '../../../src/certs/run.js'
import type { ClusterApi, SecretContent, WebhookConfiguration } from '../../../src/certs/cluster-api.js'
import type { CertsOptions } from '../../../src/certs/flags.js'
import { isSignedBy, parseCertificate, splitPem, type CertificateInfo } from '../../../src/certs/pem.js'
import { createCa, issueServing, serviceDnsNames } from '../../../src/certs/pki.js'
import { CA_SINCE_ANNOTATION, servingSecretFor } from '../../../src/certs/secrets.js'

const DAY = 86_400_000
const MIN = 60_000
const t0 = new Date('2030-01-01T00:00:00Z')
const info = (pem: string): CertificateInfo => parseCertificate(pem) as CertificateInfo
const options: CertsOptions = {
  out: undefined,
  cluster: { kubeconfig: 'kubeconfig', context: undefined },
  service: 'lameduck',
  namespace: 'lameduck-system',
  secret: 'lameduck-tls',
  caSecret: 'lameduck-ca',
  webhook: 'lameduck',
  extraDnsNames: [],
  ipAddresses: [],
  validityMs: 30 * 86_400_000,
  caValidityMs: 300 * 86_400_000,
  force: false,
  rotateCa: false,
  overlapMs: 10 * MIN,
  settleMs: 5000,
  wait: false
}

/** An in-memory cluster that logs each write, in order. */
class FakeCluster implements ClusterApi {
  readonly server = 'https://fake'
  readonly secrets = new Map<string, SecretContent>()
  webhook: WebhookConfiguration | undefined = { name: 'lameduck', webhooks: [{ name: 'pods.lameduck.dev', caBundle: '' }, { name: 'other.lameduck.dev', caBundle: '' }] }
  readonly log: string[] = []
  async readSecret (namespace: string, name: string): Promise<SecretContent | undefined> {
    return this.secrets.get(`${namespace}/${name}`)
  }

  async writeSecret (namespace: string, name: string, content: SecretContent): Promise<'created' | 'updated'> {
    const key = `${namespace}/${name}`
    const existing = this.secrets.get(key)
    this.secrets.set(key, { ...content, annotations: { ...existing?.annotations, ...content.annotations } })
    this.log.push(`Secret ${name}`)
    return existing === undefined ? 'created' : 'updated'
  }

  async readWebhookConfiguration (name: string): Promise<WebhookConfiguration> {
    if (this.webhook?.name !== name) throw new Error(`reading MutatingWebhookConfiguration ${name}: it does not exist`)
    return structuredClone(this.webhook)
  }

  async writeCaBundle (config: WebhookConfiguration, bundle: string): Promise<void> {
    this.webhook = { ...config, webhooks: config.webhooks.map(hook => ({ ...hook, caBundle: bundle })) }
    this.log.push('caBundle')
  }

  bundle (): string[] { return splitPem(this.webhook!.webhooks[0]!.caBundle).map(pem => info(pem).subject) }
  serving (): SecretContent { return this.secrets.get('lameduck-system/lameduck-tls')! }
  ca (): SecretContent { return this.secrets.get('lameduck-system/lameduck-ca')! }
}

/** Deps around a fake cluster and a clock that sleeping moves forward. */
function harness (
  cluster = new FakeCluster(),
  start = t0
): { cluster: FakeCluster; deps: Deps; lines: string[]; clock: { now: Date }; sleeps: number[] } {
  const clock = { now: start }
  const lines: string[] = []
  const sleeps: number[] = []
  const deps: Deps = {
    connect: async () => cluster,
    now: () => clock.now,
    sleep: async ms => {
      sleeps.push(ms)
      clock.now = new Date(clock.now.getTime() + ms)
    },
    say: line => {
      lines.push(line)
    }
  }
  return { cluster, deps, lines, clock, sleeps }
}

t.test('first install: the caBundle, then the CA Secret, then the serving Secret', async t => {
  const { cluster, deps, lines, sleeps } = harness()
  const result = await renewOnce(options, deps)
  t.same(cluster.log, ['caBundle', 'Secret lameduck-ca', 'Secret lameduck-tls'])
  t.same(sleeps, [], 'no wait: nothing was served before')
  t.match(result, { changed: true, pendingUntil: undefined, caNew: true, servingNew: true })
  const ca = info(cluster.ca().data['tls.crt']!)
  t.equal(result.ca.fingerprint, ca.fingerprint, 'the result names the CA written')
  t.equal(result.serving.pem, cluster.serving().data['tls.crt'], 'and the serving certificate')
  t.ok(Math.abs(result.nextRenewal.getTime() - (t0.getTime() + 20 * DAY)) < 10 * MIN, 'next renewal: the serving certificate at two thirds')
  t.same(cluster.bundle(), [ca.subject])
  t.equal(cluster.webhook!.webhooks[1]!.caBundle, cluster.webhook!.webhooks[0]!.caBundle, 'every webhook')
  const serving = cluster.serving()
  t.equal(serving.type, 'kubernetes.io/tls')
  t.equal(serving.data['ca.crt'], ca.pem)
  t.ok(isSignedBy(info(serving.data['tls.crt']!), ca))
  t.equal(serving.annotations[CA_SINCE_ANNOTATION], t0.toISOString())
  t.match(lines, [/^CA .*: new/, /^serving certificate .*: new/, /^caBundle of MutatingWebhookConfiguration lameduck: set, trusting CN=lameduck-ca@/, 'Secret lameduck-system/lameduck-ca: created (the CA\'s certificate and key)', 'Secret lameduck-system/lameduck-tls: created (tls.crt, tls.key, ca.crt)'])
})

t.test('a second run is a no-op that says so', async t => {
  const { cluster, deps, lines, clock } = harness()
  await renewOnce(options, deps)
  cluster.log.length = 0
  lines.length = 0
  clock.now = new Date(t0.getTime() + DAY)
  t.match(await renewOnce(options, deps), { changed: false, pendingUntil: undefined, caNew: false, servingNew: false })
  t.same(cluster.log, [])
  t.match(lines.at(-1), /^nothing to do: the serving certificate is valid until 2030-01-31; a run from 2030-01-20 renews it \(--force: now\)$/)
})

t.test('--force and a serving certificate due for renewal: the serving Secret only, the caBundle as it was', async t => {
  const { cluster, deps, clock } = harness()
  await renewOnce(options, deps)
  const bundle = cluster.webhook!.webhooks[0]!.caBundle
  const first = cluster.serving().data['tls.crt']
  cluster.log.length = 0
  clock.now = new Date(t0.getTime() + DAY)
  await renewOnce({ ...options, force: true }, deps)
  t.same(cluster.log, ['Secret lameduck-tls'])
  t.not(cluster.serving().data['tls.crt'], first)
  t.equal(cluster.serving().annotations[CA_SINCE_ANNOTATION], t0.toISOString(), 'the CA took over at the first run, still')
  cluster.log.length = 0
  clock.now = new Date(t0.getTime() + 22 * DAY)
  await renewOnce(options, deps)
  t.same(cluster.log, ['Secret lameduck-tls'], 'renewed when due')
  t.equal(cluster.webhook!.webhooks[0]!.caBundle, bundle)
})

t.test('a CA rotation: both CAs trusted, a pause, the Secrets, and the old CA dropped only after the overlap', async t => {
  const { cluster, deps, lines, clock, sleeps } = harness()
  await renewOnce(options, deps)
  const oldCa = info(cluster.ca().data['tls.crt']!)
  cluster.log.length = 0
  lines.length = 0
  clock.now = new Date(t0.getTime() + DAY)
  const rotated = await renewOnce({ ...options, force: true, rotateCa: true }, deps)
  const newCa = info(cluster.ca().data['tls.crt']!)
  t.not(newCa.fingerprint, oldCa.fingerprint)
  t.same(cluster.log, ['caBundle', 'Secret lameduck-ca', 'Secret lameduck-tls'])
  t.same(sleeps, [5000], 'settles after trusting the new CA, before serving it')
  t.same(cluster.bundle(), [oldCa.subject, newCa.subject])
  const since = new Date(t0.getTime() + DAY + 5000)
  t.equal(cluster.serving().annotations[CA_SINCE_ANNOTATION], since.toISOString(), 'when the Secret got the new CA, after the pause')
  t.same(rotated.pendingUntil, new Date(since.getTime() + 10 * MIN))
  t.match(lines, [/new/, /new/, /trusting CN=lameduck-ca@\d+ and CN=lameduck-ca@\d+$/, 'waiting 5s for the API server to load the new caBundle (--settle)', /^Secret lameduck-system\/lameduck-ca: updated/, /^Secret lameduck-system\/lameduck-tls: updated/,
    /^the previous CA stays in the caBundle until 2030-01-02T00:10:05.000Z, while the webhook's replicas switch to the new pair \(--overlap\); a run from then on drops it \(--wait: this one\)$/])

  cluster.log.length = 0
  clock.now = new Date(since.getTime() + 9 * MIN)
  const early = await renewOnce(options, deps)
  t.same(cluster.log, [], 'too early to drop it')
  t.same(early.pendingUntil, new Date(since.getTime() + 10 * MIN))

  lines.length = 0
  clock.now = new Date(since.getTime() + 10 * MIN)
  t.match(await renewOnce(options, deps), { changed: true, pendingUntil: undefined })
  t.same(cluster.log, ['caBundle'])
  t.same(cluster.bundle(), [newCa.subject])
  t.match(lines, [/kept/, /kept/, `caBundle of MutatingWebhookConfiguration lameduck: dropping ${oldCa.subject} (replaced by ${newCa.subject} since ${since.toISOString()})`, /set, trusting/])
})

t.test('a CA Secret written but not the serving Secret (a run that stopped halfway) is finished without dropping the old CA early', async t => {
  const { cluster, deps, clock } = harness()
  await renewOnce(options, deps)
  const oldBundle = cluster.webhook!.webhooks[0]!.caBundle
  const newCa = await createCa({ validityMs: 300 * 86_400_000, now: t0 })
  cluster.secrets.set('lameduck-system/lameduck-ca', { type: 'kubernetes.io/tls', data: { 'tls.crt': newCa.cert, 'tls.key': newCa.key }, annotations: {} })
  cluster.webhook = {
    ...cluster.webhook!,
    webhooks: cluster.webhook!.webhooks.map(hook => ({ ...hook, caBundle: oldBundle + newCa.cert }))
  }
  cluster.log.length = 0
  clock.now = new Date(t0.getTime() + DAY)
  const result = await renewOnce(options, deps)
  t.same(cluster.log, ['Secret lameduck-tls'])
  t.ok(isSignedBy(info(cluster.serving().data['tls.crt']!), info(newCa.cert)))
  t.equal(cluster.serving().annotations[CA_SINCE_ANNOTATION], clock.now.toISOString(), 'the new CA took over now, not at the old annotation')
  t.equal(cluster.bundle().length, 2, 'the old CA stays')
  t.same(result.pendingUntil, new Date(clock.now.getTime() + 10 * MIN))
})

t.test('a serving Secret from elsewhere: its ca.crt without a key is replaced; without the annotation the old CA counts from the certificate', async t => {
  const names = serviceDnsNames('lameduck', 'lameduck-system')
  const foreignCa = await createCa({ validityMs: 300 * 86_400_000, now: t0 })
  const foreign = await issueServing(foreignCa, { commonName: 'x', dnsNames: names, validityMs: 30 * 86_400_000, now: t0 })
  const { cluster, deps, clock } = harness()
  cluster.secrets.set('lameduck-system/lameduck-tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': foreign.cert, 'tls.key': foreign.key, 'ca.crt': foreignCa.cert }, annotations: {} })
  cluster.secrets.set('lameduck-system/lameduck-ca', { type: 'kubernetes.io/tls', data: { 'tls.crt': foreignCa.cert, 'tls.key': foreignCa.key }, annotations: {} })
  cluster.webhook = {
    ...cluster.webhook!,
    webhooks: cluster.webhook!.webhooks.map(hook => ({ ...hook, caBundle: foreignCa.cert }))
  }
  clock.now = new Date(t0.getTime() + DAY)
  await renewOnce(options, deps)
  t.same(cluster.log, ['Secret lameduck-tls'], 'the pair is good: only the annotation is added')
  t.equal(cluster.serving().annotations[CA_SINCE_ANNOTATION], info(foreign.cert).notBefore.toISOString())
})

t.test('a missing webhook configuration stops the run before anything is written', async t => {
  const { cluster, deps } = harness()
  cluster.webhook = undefined
  await t.rejects(renewOnce(options, deps), { message: 'reading MutatingWebhookConfiguration lameduck: it does not exist' })
  t.same(cluster.log, [])
  t.equal(cluster.secrets.size, 0)
})

t.test('--out without a cluster: the directory holds the pair and is renewed in place', async t => {
  const dir = t.testdir({})
  const { deps, lines, clock } = harness()
  const opts = { ...options, cluster: undefined, out: dir }
  t.match(await renewOnce(opts, deps), { changed: true, pendingUntil: undefined })
  t.match(lines.slice(2), [`wrote ${join(dir, 'ca.key')}`, `wrote ${join(dir, 'ca.crt')}`, `wrote ${join(dir, 'tls.key')}`, `wrote ${join(dir, 'tls.crt')}`])
  const ca = await readFile(join(dir, 'ca.crt'), 'utf8')
  lines.length = 0
  clock.now = new Date(t0.getTime() + DAY)
  t.match(await renewOnce(opts, deps), { changed: false, pendingUntil: undefined })
  t.match(lines.at(-1), /^nothing to do/)
  await renewOnce({ ...opts, force: true }, deps)
  t.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), ca, 'same CA')
})

t.test('--out with a cluster: the Secrets are the source, and the directory gets a copy', async t => {
  const dir = t.testdir({})
  const { cluster, deps, lines } = harness()
  await renewOnce(options, deps)
  lines.length = 0
  const result = await renewOnce({ ...options, out: dir }, deps)
  t.equal(result.changed, true, 'the files were written')
  t.equal(await readFile(join(dir, 'tls.crt'), 'utf8'), cluster.serving().data['tls.crt'])
  t.equal(await readFile(join(dir, 'ca.key'), 'utf8'), cluster.ca().data['tls.key'])
  t.notMatch(lines.join('\n'), /nothing to do/)
  t.same(servingSecretFor({ cert: await readFile(join(dir, 'tls.crt'), 'utf8'), key: await readFile(join(dir, 'tls.key'), 'utf8') }, { cert: await readFile(join(dir, 'ca.crt'), 'utf8'), key: '' }, new Date(cluster.serving().annotations[CA_SINCE_ANNOTATION]!)), cluster.serving())
})
