/**
 * Building blocks of CEL text (https://kubernetes.io/docs/reference/using-api/cel/), each one the
 * CEL twin of a JavaScript operation the webhook's core uses, so the policy reads values exactly as
 * the webhook does. Kubernetes' CEL has the strings, regex (`find`), optional and two-variable
 * comprehension libraries, but no `cel.bind` and no `math.greatest/least`: shared values become the
 * policy's `variables`, and min/max become ternaries.
 */

/** A CEL string literal: JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are CEL's too. */
export const str = (text: string): string => JSON.stringify(text)

/** A CEL list of string literals. */
export const strList = (items: readonly string[]): string => `[${items.map(str).join(', ')}]`

/**
 * What JavaScript's `String.prototype.trim` strips (WhiteSpace and LineTerminator of ECMA-262: the
 * Unicode Zs characters, TAB, VT, FF, BOM, LF, CR, LS, PS), as an RE2 class. CEL's own `trim()` uses
 * Go's unicode.IsSpace, which differs (it strips U+0085, keeps U+FEFF), so it is not used.
 */
const SPACE = '\\t\\n\\v\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}'
const NOT_SPACE = `[^${SPACE}]`

/** `text.trim()`: from the first to the last character that is not white space ('' when there is none). */
export const trim = (text: string): string => `${text}.find(${str(`(?s)${NOT_SPACE}(?:.*${NOT_SPACE})?`)})`

/** `a < b ? a : b` and `a > b ? a : b`; each argument is evaluated twice, so pass variables or literals. */
export const min = (a: string, b: string): string => `(${a} < ${b} ? ${a} : ${b})`
export const max = (a: string, b: string): string => `(${a} > ${b} ? ${a} : ${b})`

/** `formatDuration` of duration.ts, the shortest form: `90` → `1m30s`, `3600` → `1h`, `15` → `15s`, `0` → `0s`. */
export const formatDuration = (seconds: string): string =>
  `(${seconds} == 0 ? '0s' : (${seconds} >= 3600 ? string(${seconds} / 3600) + 'h' : '') + ` +
  `(${seconds} % 3600 >= 60 ? string(${seconds} % 3600 / 60) + 'm' : '') + (${seconds} % 60 > 0 ? string(${seconds} % 60) + 's' : ''))`

/**
 * A string template as CEL: `parts` joined by the CEL expressions in `holes` (each already a CEL
 * string). Lets messages and commands be taken from the core's own output (see `fromSample`).
 */
export function concat (parts: readonly string[], holes: readonly string[]): string {
  const terms: string[] = []
  parts.forEach((part, index) => {
    if (part !== '') terms.push(str(part))
    if (index < holes.length) terms.push(holes[index]!)
  })
  return terms.length === 0 ? "''" : terms.join(' + ')
}

/**
 * `sample` with every occurrence of `marker` replaced by the CEL string `hole`. The core builds
 * hooks and messages; calling it with a marker value and cutting its output at the marker turns
 * that output into CEL without restating it here.
 */
export function fromSample (sample: string, marker: string, hole: string): string {
  const parts = sample.split(marker)
  return concat(parts, parts.slice(1).map(() => hole))
}

/**
 * A JSON value as a CEL literal; strings containing `marker` become concatenations around `hole`
 * (a CEL string), and numbers equal to `markerNumber` become `numberHole` (a CEL int).
 */
export function jsonToCel (
  value: unknown,
  holes: { marker: string, hole: string, markerNumber: number, numberHole: string }
): string {
  if (typeof value === 'string')
    return value.includes(holes.marker) ? fromSample(value, holes.marker, holes.hole) : str(value)
  if (typeof value === 'number') return value === holes.markerNumber ? holes.numberHole : String(value)
  if (Array.isArray(value)) return `[${value.map(item => jsonToCel(item, holes)).join(', ')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${str(key)}: ${jsonToCel(item, holes)}`)
      .join(', ')}}`
  }
  throw new Error(`cannot write ${JSON.stringify(value)} as CEL`)
}

/** A tagged template: the text as CEL string literals, `${...}` as CEL string expressions, joined with `+`. */
export const text = (parts: TemplateStringsArray, ...holes: string[]): string => concat(parts, holes)
