/**
 * `parseDuration` of src/admission/duration.ts in CEL: the same forms (`15`, `15s`, `1m30s`, `1h`),
 * whole seconds, at most 2^31-1. CEL's `int()` fails on a number too large for 64 bits, so digits are
 * counted first: more than 10 significant digits is over the limit whatever the unit.
 */
import { str } from './cel.js'

/** What the CEL of `durationSeconds` gives for text that is not a duration, or too long a one. */
export const NOT_A_DURATION = -1
export const TOO_LONG = -3
const MAX_SECONDS = 2 ** 31 - 1
const MAX_DIGITS = String(MAX_SECONDS).length

/** The digits of `text` without leading zeros ('' for zero). */
const significant = (text: string): string => `${text}.find('[1-9][0-9]*')`
const number = (digits: string): string => `(size(${digits}) == 0 ? 0 : int(${digits}))`
const unit = (text: string, letter: string): string => significant(`${text}.find(${str(`[0-9]+${letter}`)})`)

/**
 * CEL giving the whole seconds of `trimmed` (a CEL string, already trimmed), or NOT_A_DURATION, or
 * TOO_LONG. `trimmed` is evaluated several times: pass a variable.
 */
export function durationSeconds (trimmed: string): string {
  const plain = significant(trimmed)
  const [h, m, s] = [unit(trimmed, 'h'), unit(trimmed, 'm'), unit(trimmed, 's')]
  const total = `(${number(h)} * 3600 + ${number(m)} * 60 + ${number(s)})`
  const tooMany = [h, m, s].map(digits => `size(${digits}) > ${MAX_DIGITS}`).join(' || ')
  return [
    `${trimmed}.matches('^[0-9]+$') ? (size(${plain}) > ${MAX_DIGITS} || ${number(plain)} > ${MAX_SECONDS} ? ${TOO_LONG} : ${number(plain)})`,
    `: ${trimmed} != '' && ${trimmed}.matches('^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$') ? (${tooMany} || ${total} > ${MAX_SECONDS} ? ${TOO_LONG} : ${total})`,
    `: ${NOT_A_DURATION}`
  ].join(' ')
}
