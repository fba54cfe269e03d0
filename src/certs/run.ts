/**
 * One run of `lameduck certs`: read what is stored (the Secrets with a cluster, else the --out
 * directory), keep or renew, then write in the order that never leaves a served certificate
 * untrusted: caBundle with the new CA, a pause for the API server to load it, the Secrets, then the
 * caBundle without CAs that are no longer needed.
 */
import { day, isSignedBy, joinPem, parseCertificate, renewalTime, type CertificateInfo } from './pem.js'
import { serviceDnsNames } from './pki.js'
import { planBundle } from './bundle.js'
import { nextRenewal } from './renewal.js'
import { decidePairs, type DecidedPairs } from './pair.js'
import { readDirectory, writeDirectory } from './directory.js'
import { caSecretFor, holds, readSecrets, servingSecretFor, type StoredSecrets } from './secrets.js'
import type { ClusterApi, Connect, WebhookConfiguration } from './cluster-api.js'
import type { CertsOptions } from './flags.js'

/** What a run depends on, passed in so that tests control the cluster and the clock. */
export interface Deps {
  readonly connect: Connect
  readonly now: () => Date
  readonly sleep: (ms: number) => Promise<void>
  /** One line of progress for the user. */
  readonly say: (line: string) => void
}

/** What a run did. */
export interface RunResult {
  /** Something was written. */
  readonly changed: boolean
  /** Old CAs stay in the caBundle until then; a run from then on drops them. */
  readonly pendingUntil: Date | undefined
  /** The CA and serving certificate the run ended with (stored, or written). */
  readonly ca: CertificateInfo
  readonly serving: CertificateInfo
  /** Whether the run made a new CA, or a new serving certificate. */
  readonly caNew: boolean
  readonly servingNew: boolean
  /** A run before this time has nothing to renew (unless the stored pairs change meanwhile). */
  readonly nextRenewal: Date
}

/** What `updateCluster` decides; the rest of RunResult comes from the pairs. */
type Written = Pick<RunResult, 'changed' | 'pendingUntil'>

/**
 * Since when the serving Secret has held certificates of the current CA, or undefined when it takes
 * over in this run (the Secret holds none it signed).
 */
function caSinceFor (stored: StoredSecrets, ca: CertificateInfo): Date | undefined {
  const previous = stored.serving === undefined ? undefined : parseCertificate(stored.serving.cert)
  if (previous === undefined || previous instanceof Error || !isSignedBy(previous, ca)) return undefined
  return stored.caSince ?? previous.notBefore
}

async function updateCluster (
  api: ClusterApi,
  webhook: WebhookConfiguration,
  stored: StoredSecrets,
  pairs: DecidedPairs,
  opts: CertsOptions,
  deps: Deps,
  now: Date
): Promise<Written> {
  const since = caSinceFor(stored, pairs.caInfo)
  const plan = planBundle(
    webhook.webhooks.map(hook => hook.caBundle),
    pairs.caInfo,
    { caSince: since ?? now, overlapMs: opts.overlapMs, now }
  )
  const where = `caBundle of MutatingWebhookConfiguration ${webhook.name}`
  const writeBundle = async (): Promise<void> => {
    await api.writeCaBundle(webhook, joinPem(plan.certificates))
    deps.say(`${where}: set, trusting ${plan.certificates.map(cert => cert.subject).join(' and ')}`)
  }
  for (const entry of plan.dropped) deps.say(`${where}: dropping ${entry}`)
  if (plan.changed && plan.added) {
    await writeBundle()
    if (plan.certificates.length > 1) {
      deps.say(`waiting ${opts.settleMs / 1000}s for the API server to load the new caBundle (--settle)`)
      await deps.sleep(opts.settleMs)
    }
  }
  // A CA that takes over in this run does so when the Secret is written, after the pause: the overlap counts from then.
  const caSince = since ?? deps.now()
  const pendingUntil = plan.pendingUntil === undefined ? undefined : new Date(caSince.getTime() + opts.overlapMs)
  let changed = plan.changed
  const write = async (name: string, content: ReturnType<typeof caSecretFor>, what: string): Promise<void> => {
    const done = await api.writeSecret(opts.namespace, name, content)
    deps.say(`Secret ${opts.namespace}/${name}: ${done} (${what})`)
    changed = true
  }
  const caSecret = caSecretFor(pairs.ca)
  if (!holds(stored.caSecretContent, caSecret)) await write(opts.caSecret, caSecret, "the CA's certificate and key")
  const servingSecret = servingSecretFor(pairs.serving, pairs.ca, caSince)
  if (!holds(stored.servingSecret, servingSecret)) await write(opts.secret, servingSecret, 'tls.crt, tls.key, ca.crt')
  if (plan.changed && !plan.added) await writeBundle()
  return { changed, pendingUntil }
}

/** Reads, decides, writes; says each step. Throws an Error with one clear line on failure. */
export async function renewOnce (opts: CertsOptions, deps: Deps): Promise<RunResult> {
  const wanted = {
    dnsNames: [...serviceDnsNames(opts.service, opts.namespace), ...opts.extraDnsNames],
    ipAddresses: opts.ipAddresses,
    validityMs: opts.validityMs,
    caValidityMs: opts.caValidityMs,
    force: opts.force,
    rotateCa: opts.rotateCa
  }
  let cluster: { api: ClusterApi, webhook: WebhookConfiguration, stored: StoredSecrets } | undefined
  if (opts.cluster !== undefined) {
    const api = await deps.connect(opts.cluster)
    // Read first: a missing webhook configuration stops the run before anything is written.
    const webhook = await api.readWebhookConfiguration(opts.webhook)
    cluster = { api, webhook, stored: await readSecrets(api, opts) }
  }
  const stored = cluster?.stored ?? await readDirectory(opts.out!)
  const now = deps.now()
  const pairs = await decidePairs(stored, wanted, { commonName: `${opts.service}.${opts.namespace}.svc`, now, say: deps.say })
  let written: Written = { changed: pairs.caNew || pairs.servingNew, pendingUntil: undefined }
  if (cluster !== undefined)
    written = await updateCluster(cluster.api, cluster.webhook, cluster.stored, pairs, opts, deps, now)
  let result: RunResult = {
    ...written,
    ca: pairs.caInfo,
    serving: pairs.servingInfo,
    caNew: pairs.caNew,
    servingNew: pairs.servingNew,
    nextRenewal: nextRenewal(pairs.caInfo, pairs.servingInfo, wanted)
  }
  if (opts.out !== undefined) {
    const written = await writeDirectory(opts.out, pairs)
    for (const path of written) deps.say(`wrote ${path}`)
    result = { ...result, changed: result.changed || written.length > 0 }
  }
  if (result.pendingUntil !== undefined) {
    deps.say(`the previous CA stays in the caBundle until ${result.pendingUntil.toISOString()}, while the webhook's replicas switch to the new pair (--overlap); a run from then on drops it (--wait: this one)`)
  }
  if (!result.changed) {
    deps.say(`nothing to do: the serving certificate is valid until ${day(pairs.servingInfo.notAfter)}; a run from ${day(renewalTime(pairs.servingInfo))} renews it (--force: now)`)
  }
  return result
}
