/**
 * A scalar as kubectl reads it: sigs.k8s.io/yaml over go-yaml v2 (go.yaml.in/yaml/v2, resolve.go),
 * then JSON. A plain scalar is YAML 1.1-ish: `y`, `yes`, `on` and their kin are booleans, `~` and
 * `null` are null, integers are Go's (`0x1F`, `0o17`, a leading 0 for octal `017`, `0b1`,
 * underscores dropped anywhere) kept to 64 bits, floats are YAML's decimal ones; there is no base-60
 * (`1:20` is a string), `.` is a string, and so is a timestamp. A map key becomes the string
 * sigs.k8s.io/yaml makes of it. What kubectl cannot make JSON of (`.inf`, `.nan`, a null key, an
 * unsigned 64-bit key) it refuses, and so do these functions. Pure.
 */

/** What a scalar is to kubectl. An int is signed 64-bit, or unsigned 64-bit past the signed range. */
export type Scalar =
  | { readonly kind: 'null' }
  | { readonly kind: 'bool', readonly value: boolean }
  | { readonly kind: 'int', readonly value: bigint, readonly unsigned: boolean }
  | { readonly kind: 'float', readonly value: number }
  | { readonly kind: 'str', readonly value: string }

const str = (value: string): Scalar => ({ kind: 'str', value })
const bool = (value: boolean): Scalar => ({ kind: 'bool', value })
const float = (value: number): Scalar => ({ kind: 'float', value })

/** resolveMap: plain scalars read by name (`<<` is a merge key only as a key, which yaml.ts handles). */
const NAMED = new Map<string, Scalar>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map(name => [name, bool(true)] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']
    .map(name => [name, bool(false)] as const),
  ...['', '~', 'null', 'Null', 'NULL'].map(name => [name, { kind: 'null' }] as const),
  ...['.nan', '.NaN', '.NAN'].map(name => [name, float(NaN)] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map(name => [name, float(Infinity)] as const),
  ...['-.inf', '-.Inf', '-.INF'].map(name => [name, float(-Infinity)] as const)
])

/** resolveTable: what a plain scalar's first character lets it be; undefined: a string, whatever follows. */
function hint (text: string): 'named' | 'dot' | 'number' | undefined {
  if (text === '') return 'named'
  const first = text[0]!
  if ('+-0123456789'.includes(first)) return 'number'
  if (first === '.') return 'dot'
  return 'yYnNtTfFoO~'.includes(first) ? 'named' : undefined
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n
/** The integers a JavaScript number holds exactly; past them, a BigInt. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** strconv.ParseInt(text, 0, 64), then ParseUint (no sign): Go's integer syntax, 64 bits. */
function goInteger (text: string): Scalar | undefined {
  const match = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(text)
  if (match === null) return undefined
  const [, sign, hex, octal, binary, legacyOctal, decimal] = match
  const magnitude = hex !== undefined
    ? BigInt(`0x${hex}`)
    : binary !== undefined
      ? BigInt(`0b${binary}`)
      : decimal !== undefined ? BigInt(decimal) : BigInt(`0o${(octal ?? legacyOctal) || '0'}`)
  const value = sign === '-' ? -magnitude : magnitude
  if (value >= INT64_MIN && value <= INT64_MAX) return { kind: 'int', value, unsigned: false }
  if (sign === '' && value <= UINT64_MAX) return { kind: 'int', value, unsigned: true }
  return undefined
}

/** yamlStyleFloat: the decimal floats go-yaml reads (no hex floats, no `inf` words). */
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/

/**
 * What strconv.ParseFloat takes of a scalar that starts with a dot, which go-yaml hands it as written:
 * Go's float syntax, where one underscore may stand between two digits (`.5_6e1_0`).
 */
const GO_DOT_FLOAT = /^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?$/

/** strconv.ParseFloat of a decimal: out of range (`1e400`) is an error, so the scalar stays a string. */
function goFloat (text: string): Scalar | undefined {
  const value = Number(text)
  return Number.isFinite(value) ? float(value) : undefined
}

/** What kubectl makes of the plain (unquoted, untagged) scalar `text`. */
export function resolvePlain (text: string): Scalar {
  const kind = hint(text)
  if (kind === undefined) return str(text)
  const named = NAMED.get(text)
  if (named !== undefined) return named
  if (kind === 'named') return str(text)
  if (kind === 'dot') return (GO_DOT_FLOAT.test(text) ? goFloat(text.replaceAll('_', '')) : undefined) ?? str(text)
  // A timestamp (four digits and a dash) reads as a string, as does anything else that is no number.
  const plain = text.replaceAll('_', '')
  return goInteger(plain) ?? (YAML_FLOAT.test(plain) ? goFloat(plain) : undefined) ?? str(text)
}

/** Whether a string written plain reads back as that same string (else it must be quoted). */
export function readsAsString (text: string): boolean {
  const read = resolvePlain(text)
  return read.kind === 'str' && read.value === text
}

/** A value of the JSON kubectl sends: an int past 2^53 as a BigInt, exact. Throws for what JSON cannot hold. */
export function jsonValue (scalar: Scalar): null | boolean | number | bigint | string {
  switch (scalar.kind) {
    case 'null': return null
    case 'int': return scalar.value >= -SAFE && scalar.value <= SAFE ? Number(scalar.value) : scalar.value
    case 'float':
      if (!Number.isFinite(scalar.value)) {
        throw new Error(`${formatFloat(scalar.value)} is no number JSON can hold; kubectl refuses it too (quote it)`)
      }
      return scalar.value
    default: return scalar.value
  }
}

/** The string sigs.k8s.io/yaml makes of a map key; throws for the keys it refuses (null, unsigned 64-bit). */
export function keyString (scalar: Scalar): string {
  switch (scalar.kind) {
    case 'null': throw new Error('a null map key (kubectl refuses it: quote it for a string)')
    case 'int':
      if (scalar.unsigned) throw new Error(`map key ${scalar.value} is past 64-bit integers (kubectl refuses it)`)
      return scalar.value.toString()
    case 'float': return formatFloat(scalar.value)
    case 'bool': return String(scalar.value)
    default: return scalar.value
  }
}

/**
 * strconv.FormatFloat(value, 'g', -1, 32), with go-yaml's names for infinities and NaN: the float
 * rounded to 32 bits, its shortest digits, in exponent form below 1e-4 or from 1e6 on.
 */
export function formatFloat (value: number): string {
  if (Number.isNaN(value)) return '.nan'
  const single = Math.fround(value)
  if (!Number.isFinite(single)) return single > 0 ? '.inf' : '-.inf'
  if (single === 0) return Object.is(single, -0) ? '-0' : '0'
  const sign = single < 0 ? '-' : ''
  const size = Math.abs(single)
  let shortest = size.toExponential(8)
  for (let precision = 0; precision < 8; precision++) {
    const candidate = size.toExponential(precision)
    if (Math.fround(Number(candidate)) === size) { shortest = candidate; break }
  }
  const [mantissa = '', exponentText = '0'] = shortest.split('e')
  const digits = mantissa.replace('.', '')
  const exponent = Number(exponentText)
  if (exponent < -4 || exponent >= 6) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : ''
    return `${sign}${digits[0]!}${fraction}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  const point = exponent + 1
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}
