/**
 * Which replica answered a request, read from the answer: a header the app sets (`header:X-Pod`), a
 * field of its JSON body (`json:pod`, `json:meta.host`), or the whole body (`body`, for an endpoint
 * such as agnhost's `/hostname` that answers with the name alone). `lameduck check` matches these
 * names with Pod names to find the last request each old Pod answered. Pure.
 */

/** How to read the replica's name from an answer. */
export type Identify =
  | { kind: 'header', name: string }
  | { kind: 'json', path: readonly string[] }
  | { kind: 'body' }

/** The spelling `--identify` takes, for messages and help. */
export const IDENTIFY_FORMS = 'header:NAME, json:FIELD[.FIELD…] or body'

/** Most body bytes kept to read a name from: an app's identity answer is small. */
export const IDENTIFY_BODY_LIMIT = 64 * 1024

/** Longest name kept (a Pod name is at most 253 characters). */
const NAME_LIMIT = 253

/** Reads `--identify`'s value; throws an Error naming what is wrong. */
export function parseIdentify (spec: string): Identify {
  const at = spec.indexOf(':')
  const kind = at < 0 ? spec : spec.slice(0, at)
  const rest = at < 0 ? '' : spec.slice(at + 1)
  if (kind === 'body' && at < 0) return { kind: 'body' }
  if (kind === 'header' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(rest)) return { kind: 'header', name: rest.toLowerCase() }
  if (kind === 'json' && rest !== '' && rest.split('.').every(part => part !== '')) return { kind: 'json', path: rest.split('.') }
  throw new Error(`identify: ${JSON.stringify(spec)} is not one of ${IDENTIFY_FORMS}`)
}

/** Whether reading the name needs the body. */
export function needsBody (identify: Identify): boolean {
  return identify.kind !== 'header'
}

function clean (value: unknown): string | undefined {
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string') return undefined
  const name = value.trim()
  return name === '' ? undefined : name.slice(0, NAME_LIMIT)
}

/**
 * The replica's name in an answer, or undefined when it does not say. `headers` as undici gives
 * them (lower-case names; a repeated header is a list, of which the first counts).
 */
export function identifyReplica (
  identify: Identify,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string
): string | undefined {
  if (identify.kind === 'header') {
    const value = headers[identify.name]
    return clean(Array.isArray(value) ? value[0] : value)
  }
  if (identify.kind === 'body') return clean(body.split('\n')[0])
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }
  for (const key of identify.path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return clean(value)
}
