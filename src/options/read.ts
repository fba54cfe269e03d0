/**
 * How an option's text becomes a value, the same for every command: durations in the syntax of
 * lameduck's annotations (the admission core's, `15`, `15s`, `1m30s`), ports, sizes, whole numbers,
 * booleans, lists, log levels, handlers and pause deliveries. A table of specs is read from flags,
 * then `LAMEDUCK_*` variables, then defaults (`serve`, and the policy options `preview` and
 * `policy` share with it); `durationFlag` is for the commands that read their own flags. A bad
 * value is a ConfigError.
 */
import { parseDuration } from '../admission/duration.js'
import { HANDLER_SETTINGS } from '../admission/policy.js'
import { ConfigError, type FlagTable } from '../common/flags.js'

/** How an option's text is read. */
export type OptionKind =
  'string' | 'duration' | 'port' | 'size' | 'count' | 'boolean' | 'list' | 'level' | 'handler' | 'delivery'

/** One option: flag name, the config key it sets, its default (as text) and its help line. */
export interface OptionSpec {
  readonly name: string
  readonly key: string
  readonly kind: OptionKind
  readonly default?: string
  readonly help: string
}

export type Value = string | number | boolean | ReadonlySet<string> | undefined

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
const SIZE = /^(\d+)\s*(|B|KiB|Ki|K|KB|MiB|Mi|M|MB)$/
const SIZE_FACTORS: Readonly<Record<string, number>> = {
  '': 1, B: 1, K: 1024, KB: 1024, Ki: 1024, KiB: 1024, M: 1024 ** 2, MB: 1024 ** 2, Mi: 1024 ** 2, MiB: 1024 ** 2
}

/** `LAMEDUCK_<NAME>`: `--max-sleep` is `LAMEDUCK_MAX_SLEEP`. */
export const envName = (flag: string): string => `LAMEDUCK_${flag.toUpperCase().replaceAll('-', '_')}`

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
export function resolveOptions (
  specs: readonly OptionSpec[],
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>
): Record<string, Value> {
  const values: Record<string, Value> = {}
  for (const spec of specs) {
    const flag = flags[spec.name]
    const fromEnv = env[envName(spec.name)]
    if (typeof flag === 'boolean') values[spec.key] = flag
    else if (typeof flag === 'string') values[spec.key] = convert(spec, flag)
    else if (fromEnv !== undefined)
      values[spec.key] = convert({ ...spec, name: `${spec.name} (${envName(spec.name)})` }, fromEnv)
    else values[spec.key] = spec.default === undefined ? undefined : convert(spec, spec.default)
  }
  return values
}

/** The help lines of `specs`: each flag, what it does, and its default. */
export function optionHelp (specs: readonly OptionSpec[]): string {
  const line = (spec: OptionSpec): string =>
    `  --${spec.name.padEnd(26)}${spec.help}${spec.default === undefined ? '' : ` (default ${spec.default})`}`
  return specs.map(line).join('\n')
}

/**
 * A duration flag in seconds: `fallback` when absent (required when there is none); a ConfigError naming the flag when
 * it does not parse.
 */
export function durationFlag (flag: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback
  if (text === undefined) throw new ConfigError(`--${flag} is required`)
  const value = parseDuration(text)
  if (value instanceof Error) throw new ConfigError(`--${flag}: ${value.message}`)
  return value
}
