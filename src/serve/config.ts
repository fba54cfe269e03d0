/**
 * `lameduck serve` configuration: read once from flags and `LAMEDUCK_*` environment variables
 * (a flag wins), validated, frozen and passed down. The only module that reads `process.env`.
 */
import { ConfigError, parseFlags } from '../common/flags.js'
import { checkLimits, type HandlerOptions, type PolicyOptions } from '../options/policy.js'
import { flagOptions, resolveOptions } from '../options/read.js'
import type { PauseDelivery } from '../admission/types.js'
import { SERVE_OPTIONS } from './options.js'

/** Everything `serve` needs, validated. Durations are in seconds. */
export interface ServeConfig extends PolicyOptions, HandlerOptions {
  readonly host: string
  readonly port: number
  readonly metricsPort: number
  readonly tlsCert: string | undefined
  readonly tlsKey: string | undefined
  readonly tlsSecret: string | undefined
  readonly namespace: string
  readonly webhookConfiguration: string
  readonly selfSigned: boolean
  readonly namespacesFile: string | undefined
  readonly kubeconfig: string | undefined
  readonly context: string | undefined
  readonly pauseDelivery: PauseDelivery | 'auto'
  readonly noAdvice: boolean
  readonly drainDelay: number
  readonly bodyLimit: number
  readonly headersTimeout: number
  readonly requestTimeout: number
  readonly maxConnections: number
  readonly logLevel: string
  readonly renewCerts: boolean
  readonly renewValidity: number
  readonly renewCaValidity: number
  readonly renewOverlap: number
  readonly certExpiryWarning: number
}

function check (condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(message)
}

function validate (config: ServeConfig): ServeConfig {
  checkLimits(config)
  check((config.tlsCert === undefined) === (config.tlsKey === undefined), '--tls-cert and --tls-key go together')
  const sources = [config.tlsCert !== undefined, config.selfSigned, config.tlsSecret !== undefined]
    .filter(Boolean).length
  check(sources === 1, 'give one of --tls-cert and --tls-key, --tls-secret, or --self-signed')
  check(config.namespacesFile === undefined || config.kubeconfig === undefined, '--namespaces-file and --kubeconfig exclude each other')
  check(config.namespacesFile === undefined || config.context === undefined,
    '--namespaces-file and --context exclude each other')
  check(config.tlsSecret === undefined || config.namespacesFile === undefined,
    '--tls-secret needs a cluster, not --namespaces-file')
  check(config.bodyLimit >= 1024, '--body-limit must be at least 1KiB')
  check(config.headersTimeout >= 1, '--headers-timeout must be at least 1s')
  check(config.maxConnections >= 1, '--max-connections must be at least 1')
  check(config.requestTimeout >= config.headersTimeout, `--request-timeout (${config.requestTimeout}s) must not be shorter than --headers-timeout (${config.headersTimeout}s)`)
  check(!config.renewCerts || (!config.selfSigned && config.namespacesFile === undefined),
    '--renew-certs needs a cluster and the key pair from a Secret (--tls-secret, or --tls-cert and --tls-key of its volume), not --namespaces-file or --self-signed')
  check(config.renewValidity >= 10, '--renew-validity must be at least 10s')
  check(config.renewCaValidity > config.renewValidity, `--renew-ca-validity (${config.renewCaValidity}s) must be longer than --renew-validity (${config.renewValidity}s): the CA must outlive what it signs`)
  return config
}

/** Reads `serve`'s flags and environment; throws ConfigError with one clear line. */
export function readServeConfig (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>
): ServeConfig {
  return Object.freeze(
    validate(resolveOptions(SERVE_OPTIONS, parseFlags(argv, flagOptions(SERVE_OPTIONS)), env) as unknown as ServeConfig)
  )
}
