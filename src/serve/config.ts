/**
 * `lameduck serve` configuration: read once from flags and `LAMEDUCK_*` environment variables
 * (a flag wins), validated, frozen and passed down. The only module that reads `process.env`.
 */
import { ConfigError, parseFlags, type FlagTable } from '../common/flags.js'
import { parseDuration } from '../admission/duration.js'
import { SERVE_OPTIONS, type OptionSpec } from './options.js'
import { HANDLER_SETTINGS, type PolicyLimits } from '../admission/policy.js'
import type { AutoHandler, HandlerSetting, PauseDelivery } from '../admission/types.js'

/** Everything `serve` needs, validated. Durations are in seconds. */
export interface ServeConfig {
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
  readonly defaultSleep: number
  readonly defaultBudget: number
  readonly maxSleep: number
  readonly maxGrace: number
  readonly excludeNamespaces: ReadonlySet<string>
  readonly defaultHandler: HandlerSetting
  readonly pauseImage: string
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

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
const SIZE = /^(\d+)\s*(|B|KiB|Ki|K|KB|MiB|Mi|M|MB)$/
const SIZE_FACTORS: Readonly<Record<string, number>> = { '': 1, B: 1, K: 1024, KB: 1024, Ki: 1024, KiB: 1024, M: 1024 ** 2, MB: 1024 ** 2, Mi: 1024 ** 2, MiB: 1024 ** 2 }

/** `LAMEDUCK_<NAME>`: `--max-sleep` is `LAMEDUCK_MAX_SLEEP`. */
export const envName = (flag: string): string => `LAMEDUCK_${flag.toUpperCase().replaceAll('-', '_')}`

export type Value = string | number | boolean | ReadonlySet<string> | undefined

function convert (spec: OptionSpec, text: string): Value {
  const fail = (why: string): never => { throw new ConfigError(`--${spec.name}: ${JSON.stringify(text)} ${why}`) }
  switch (spec.kind) {
    case 'duration': {
      const seconds = parseDuration(text)
      return seconds instanceof Error ? fail('is not a duration (use 15, 15s or 1m30s)') : seconds
    }
    case 'port': {
      const port = /^\d+$/.test(text) ? Number(text) : NaN
      return port >= 0 && port <= 65535 ? port : fail('is not a port (0-65535)')
    }
    case 'size': {
      const match = SIZE.exec(text.trim())
      return match === null ? fail('is not a size (use bytes, or 512KiB, 4MiB)') : Number(match[1]) * SIZE_FACTORS[match[2]!]!
    }
    case 'count':
      return /^\d+$/.test(text.trim()) ? Number(text.trim()) : fail('is not a whole number')
    case 'boolean':
      return ['true', '1', 'yes'].includes(text) ? true : ['false', '0', 'no', ''].includes(text) ? false : fail('is not true or false')
    case 'list':
      return new Set(text.split(',').map(item => item.trim()).filter(item => item !== ''))
    case 'level':
      return LOG_LEVELS.has(text) ? text : fail(`is not a log level (${[...LOG_LEVELS].join(', ')})`)
    case 'handler':
      if ((HANDLER_SETTINGS as readonly string[]).includes(text)) return text
      return fail(`is not a handler (${HANDLER_SETTINGS.join(', ')})`)
    case 'delivery':
      if (['auto', 'init-container', 'image-volume'].includes(text)) return text
      return fail('is not auto, init-container or image-volume')
    default:
      return text === '' ? fail('must not be empty') : text
  }
}

/** The flag table (node:util parseArgs declarations) for `specs`. */
export function flagOptions (specs: readonly OptionSpec[]): FlagTable {
  return Object.fromEntries(specs.map(spec => [spec.name, { type: spec.kind === 'boolean' ? 'boolean' : 'string' }]))
}

/**
 * The values of `specs`: from parsed flags, then `LAMEDUCK_*` variables, then defaults; each one
 * converted and checked. Throws ConfigError naming the flag (or variable) and the bad value.
 */
export function resolveOptions (specs: readonly OptionSpec[], flags: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): Record<string, Value> {
  const values: Record<string, Value> = {}
  for (const spec of specs) {
    const flag = flags[spec.name]
    const fromEnv = env[envName(spec.name)]
    if (typeof flag === 'boolean') values[spec.key] = flag
    else if (typeof flag === 'string') values[spec.key] = convert(spec, flag)
    else if (fromEnv !== undefined) values[spec.key] = convert({ ...spec, name: `${spec.name} (${envName(spec.name)})` }, fromEnv)
    else values[spec.key] = spec.default === undefined ? undefined : convert(spec, spec.default)
  }
  return values
}

function check (condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(message)
}

/** The limits' own consistency, shared by `serve` and `preview`. */
export function checkLimits (config: Pick<ServeConfig, 'defaultSleep' | 'maxSleep' | 'maxGrace'>): void {
  check(config.defaultSleep >= 1, '--default-sleep must be at least 1s')
  check(config.maxSleep >= 1, '--max-sleep must be at least 1s')
  check(config.maxGrace > config.maxSleep, `--max-grace (${config.maxGrace}s) must be longer than --max-sleep (${config.maxSleep}s): the grace period must outlast the pause`)
  check(config.defaultSleep <= config.maxSleep, `--default-sleep (${config.defaultSleep}s) must not exceed --max-sleep (${config.maxSleep}s)`)
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
export function readServeConfig (argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeConfig {
  return Object.freeze(validate(resolveOptions(SERVE_OPTIONS, parseFlags(argv, flagOptions(SERVE_OPTIONS)), env) as unknown as ServeConfig))
}

/** What the cluster decides for the `auto` settings: the handler, and how the pause's program is brought. */
export interface AutoChoice { readonly handler: AutoHandler, readonly delivery: PauseDelivery }

type LimitsConfig =
  Pick<ServeConfig, 'defaultSleep' | 'defaultBudget' | 'maxSleep' | 'maxGrace' | 'defaultHandler' | 'pauseImage'>
  & Partial<Pick<ServeConfig, 'pauseDelivery'>>

/** The policy's share of the configuration, with what `auto` means: plain values, frozen. */
export function policyLimits (config: LimitsConfig, auto: AutoChoice): PolicyLimits {
  const forced = config.pauseDelivery
  const delivery = forced === undefined || forced === 'auto' ? auto.delivery : forced
  return Object.freeze({
    defaultSleep: config.defaultSleep,
    defaultBudget: config.defaultBudget,
    maxSleep: config.maxSleep,
    maxGrace: config.maxGrace,
    autoHandler: auto.handler,
    defaultHandler: config.defaultHandler,
    pause: Object.freeze({ image: config.pauseImage, delivery })
  })
}
