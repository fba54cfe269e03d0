/**
 * Flags, the same way for every command (`serve`, `preview`, `certs`, `load`, `check`, the demo): a
 * table of node:util parseArgs options, parsed strictly, and values read into numbers with one
 * message shape (durations: options/read.ts). A bad flag or value is a ConfigError: one line, exit
 * code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A bad flag or value: the CLI prints the message as one line and exits non-zero. */
export class ConfigError extends Error {}

/** A command's flags: node:util parseArgs option declarations, by flag name. */
export type FlagTable = NonNullable<ParseArgsConfig['options']>

/** The flag table of a command that reads and checks each value itself: string flags, and boolean switches. */
export function flagTable<S extends string, B extends string = never> (strings: readonly S[], switches: readonly B[] = []): Record<S, { type: 'string' }> & Record<B, { type: 'boolean' }> {
  const table: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const name of strings) table[name] = { type: 'string' }
  for (const name of switches) table[name] = { type: 'boolean' }
  return table as Record<S, { type: 'string' }> & Record<B, { type: 'boolean' }>
}

/** Parsed flag values: strings, booleans, or lists of them for repeatable flags. */
export type FlagValues = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>

/** node:util parseArgs, strict and without positionals, its error turned into one ConfigError line. */
export function parseFlags (args: readonly string[], table: FlagTable): FlagValues {
  try {
    return parseArgs({ args: [...args], options: table, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new ConfigError((error as Error).message.split('\n')[0])
  }
}

/** What a number flag accepts. */
export interface NumberRule {
  /** Used when the flag is absent; without one the flag is required. */
  readonly fallback?: number
  /** Whole numbers only, between `min` and `max`: the message names the range. */
  readonly whole?: { readonly min: number, readonly max: number, readonly unit: string }
}

/**
 * A number flag: `rule.fallback` when absent; a ConfigError naming the flag and the value when it is not a number (or
 * not a whole one in range).
 */
export function numberFlag (flag: string, text: string | undefined, rule: NumberRule = {}): number {
  if (text === undefined && rule.fallback !== undefined) return rule.fallback
  const { whole } = rule
  if (whole !== undefined) {
    const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN
    if (!(n >= whole.min && n <= whole.max)) throw new ConfigError(`--${flag}: ${JSON.stringify(text ?? '')} is not a whole number of ${whole.unit} (${whole.min}-${whole.max})`)
    return n
  }
  const value = Number(text)
  if (text === undefined || text.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`--${flag} must be a number${text === undefined ? '' : `, not ${JSON.stringify(text)}`}`)
  return value
}
