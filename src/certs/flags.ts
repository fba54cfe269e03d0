/**
 * `lameduck certs` flags: read once, checked, frozen. A bad flag or value is a ConfigError (one
 * line, exit code 2).
 */
import { isIP } from 'node:net'
import { ConfigError, numberFlag, parseFlags } from '../common/flags.js'
import { durationFlag } from '../options/read.js'
import { OWN_NAMESPACE } from '../admission/keys.js'
import type { KubeTarget } from '../kube/access.js'
import { validityText } from './renewal.js'

/** Everything a run needs. Durations in milliseconds. */
export interface CertsOptions {
  readonly out: string | undefined
  /** Undefined: files only. */
  readonly cluster: KubeTarget | undefined
  readonly service: string
  readonly namespace: string
  readonly secret: string
  readonly caSecret: string
  readonly webhook: string
  /** Names the serving certificate holds besides the Service's (`--dns`), for a webhook reached by URL. */
  readonly extraDnsNames: readonly string[]
  /** IP addresses it holds (`--ip`), for a webhook reached by `https://<IP>` (one on this machine). */
  readonly ipAddresses: readonly string[]
  /** Validity of a new serving certificate. */
  readonly validityMs: number
  /** Validity of a new CA. */
  readonly caValidityMs: number
  readonly force: boolean
  readonly rotateCa: boolean
  readonly overlapMs: number
  readonly settleMs: number
  readonly wait: boolean
}

/** `lameduck certs --help`. */
export const CERTS_HELP = `Usage: lameduck certs (--out DIR | --apply | --kubeconfig FILE) [flags]

Makes the webhook's key pair: an EC P-256 CA and a serving certificate it signs (SHA-256) for the
Service's DNS names. Run it again at any time: it renews only what has less than a third of its
validity left, and otherwise says there is nothing to do. A CA that is still good keeps signing,
so renewing the serving certificate leaves the caBundle as it is.

With a cluster it writes Secret <namespace>/<secret> (tls.crt, tls.key, ca.crt; a new Secret is of
type kubernetes.io/tls, an existing one keeps its type), keeps the CA's key in Secret
<namespace>/<ca-secret>, and sets the caBundle of every webhook in the MutatingWebhookConfiguration.
A new CA is added to the caBundle before any certificate it signed is written, and the old CA stays
trusted for --overlap, until every replica serves the new pair; a later run (or --wait) then drops
it. The replicas of an install make and renew all this themselves: run it by hand to renew or
rotate now.

Where:
  --out DIR               write ca.crt, ca.key, tls.crt, tls.key (keys mode 0600) to DIR; without a
                          cluster, DIR also holds the pair that is renewed
  --apply                 use the cluster of the default kubeconfig (KUBECONFIG, ~/.kube/config, or
                          the Pod's service account)
  --kubeconfig FILE       use this kubeconfig's cluster (implies --apply)
  --context NAME          a context of the kubeconfig other than its current one

What:
  --service NAME          the webhook's Service (default lameduck)
  --namespace NAME        its namespace, and the Secrets' (default ${OWN_NAMESPACE})
  --secret NAME           the serving Secret the webhook serves from (default lameduck-tls)
  --ca-secret NAME        the Secret that keeps the CA's key (default lameduck-ca)
  --webhook NAME          the MutatingWebhookConfiguration (default lameduck)
  --dns NAME              another DNS name for the serving certificate, for a webhook the API server
                          reaches by clientConfig.url (repeat for more)
  --ip ADDRESS            an IP address for it, e.g. 127.0.0.1 for a webhook on this machine (repeat)
  --days N                validity of a new serving certificate (default 365)
  --ca-days N             validity of a new CA, longer than --days (default 3650)
  --validity DURATION     instead of --days: e.g. 2160h, or minutes for a test (90s)
  --ca-validity DURATION  instead of --ca-days

When:
  --force                 renew the serving certificate now (the CA stays if it is good)
  --rotate-ca             make a new CA now, and a serving certificate it signs
  --overlap DURATION      how long an old CA stays in the caBundle after a new one is in the
                          Secret; longer than a Secret volume takes to update (default 10m)
  --settle DURATION       after adding a CA to a caBundle that trusts another, wait this long for
                          the API server to load it before writing the new pair (default 5s)
  --wait                  after a CA rotation, wait out --overlap and drop the old CA in this run`

const FLAGS = {
  out: { type: 'string' },
  apply: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  service: { type: 'string', default: 'lameduck' },
  namespace: { type: 'string', default: OWN_NAMESPACE },
  secret: { type: 'string', default: 'lameduck-tls' },
  'ca-secret': { type: 'string', default: 'lameduck-ca' },
  webhook: { type: 'string', default: 'lameduck' },
  dns: { type: 'string', multiple: true },
  ip: { type: 'string', multiple: true },
  days: { type: 'string' },
  'ca-days': { type: 'string' },
  validity: { type: 'string' },
  'ca-validity': { type: 'string' },
  force: { type: 'boolean', default: false },
  'rotate-ca': { type: 'boolean', default: false },
  overlap: { type: 'string', default: '10m' },
  settle: { type: 'string', default: '5s' },
  wait: { type: 'boolean', default: false }
} as const

/** RFC 1123 labels: what Kubernetes accepts as a Service, namespace or Secret name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

function name (flag: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new ConfigError(`--${flag}: ${JSON.stringify(value)} is not a valid Kubernetes name`)
  return value
}

/** A host name a certificate can hold: lower-case letters, digits and dashes, dot-separated; no wildcard. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/

function hostName (value: string): string {
  if (!HOST_NAME.test(value)) throw new ConfigError(`--dns: ${JSON.stringify(value)} is not a DNS name (lower-case letters, digits, dashes and dots; no wildcard)`)
  return value
}

function ipAddress (value: string): string {
  if (isIP(value) === 0) throw new ConfigError(`--ip: ${JSON.stringify(value)} is not an IPv4 or IPv6 address`)
  return value
}

const DAY_MS = 86_400_000

const days = (flag: string, value: string): number => numberFlag(flag, value, { whole: { min: 1, max: 36_500, unit: 'days' } }) * DAY_MS
const millis = (flag: string, value: string): number => durationFlag(flag, value) * 1000

/** A validity from `--<daysFlag> N` or `--<durationFlag> DURATION` (one of them), else `defaultDays`. */
function validity (
  values: Readonly<Record<string, unknown>>,
  daysFlag: string,
  durationFlag: string,
  defaultDays: number
): number {
  const inDays = values[daysFlag]
  const asDuration = values[durationFlag]
  if (inDays !== undefined && asDuration !== undefined)
    throw new ConfigError(`--${daysFlag} and --${durationFlag} exclude each other`)
  if (typeof asDuration === 'string') {
    const ms = millis(durationFlag, asDuration)
    if (ms < 10_000) throw new ConfigError(`--${durationFlag}: ${JSON.stringify(asDuration)} is shorter than 10s`)
    return ms
  }
  return days(daysFlag, typeof inDays === 'string' ? inDays : String(defaultDays))
}

/** Reads and checks the flags. */
export function readCertsOptions (argv: readonly string[]): CertsOptions {
  const values = parseFlags(argv, FLAGS)
  // Flags with a default are always strings or booleans; the others may be absent.
  const text = (key: keyof typeof FLAGS): string => String(values[key])
  const optional = (key: keyof typeof FLAGS): string | undefined => values[key] === undefined ? undefined : text(key)
  const kubeconfig = optional('kubeconfig')
  const useCluster = values.apply === true || kubeconfig !== undefined
  if (!useCluster && values.out === undefined) throw new ConfigError('say where the key pair goes: --out DIR, --apply (the default kubeconfig\'s cluster) or --kubeconfig FILE')
  if (!useCluster && values.context !== undefined) throw new ConfigError('--context needs --apply or --kubeconfig')
  const options: CertsOptions = {
    out: optional('out'),
    cluster: useCluster ? { kubeconfig, context: optional('context') } : undefined,
    service: name('service', text('service'), DNS_LABEL),
    namespace: name('namespace', text('namespace'), DNS_LABEL),
    secret: name('secret', text('secret'), DNS_SUBDOMAIN),
    caSecret: name('ca-secret', text('ca-secret'), DNS_SUBDOMAIN),
    webhook: name('webhook', text('webhook'), DNS_SUBDOMAIN),
    extraDnsNames: [...new Set((values.dns as string[] | undefined ?? []).map(hostName))],
    ipAddresses: [...new Set((values.ip as string[] | undefined ?? []).map(ipAddress))],
    validityMs: validity(values, 'days', 'validity', 365),
    caValidityMs: validity(values, 'ca-days', 'ca-validity', 3650),
    force: values.force === true || values['rotate-ca'] === true,
    rotateCa: values['rotate-ca'] === true,
    overlapMs: millis('overlap', text('overlap')),
    settleMs: millis('settle', text('settle')),
    wait: values.wait === true
  }
  if (options.caValidityMs <= options.validityMs) {
    throw new ConfigError(`the CA's validity (${validityText(options.caValidityMs)}) must be longer than the serving certificate's (${validityText(options.validityMs)}): the CA must outlive what it signs`)
  }
  if (options.secret === options.caSecret) throw new ConfigError('--secret and --ca-secret must differ: the CA\'s key must not reach the webhook\'s Pods')
  return Object.freeze(options)
}
