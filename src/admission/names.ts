/**
 * Lists of names inside warnings: one warning names every container it concerns, so a Pod with 30
 * containers sends one line rather than 30, and the list is cut short well under the API server's
 * 256 characters per warning.
 */

/** Characters of names a warning may hold before the list is cut with "… and N more". */
export const MAX_LIST = 80

/**
 * `"web"`, `"web" and "api"`, `"a", "b" and "c"`, or `"a", "b", … and 27 more`. Container names are
 * DNS labels, which JSON.stringify quotes; names as a user wrote them (an annotation's) are quoted as
 * they are, which the policy's CEL can do too (`raw`).
 */
export function quoteNames (names: readonly string[], raw = false): string {
  const quoted = names.map(name => raw ? `"${name}"` : JSON.stringify(name))
  const shown: string[] = []
  let length = 0
  for (const name of quoted) {
    if (shown.length > 0 && length + name.length > MAX_LIST) break
    shown.push(name)
    length += name.length + 2
  }
  if (shown.length < quoted.length) return `${shown.join(', ')}, … and ${quoted.length - shown.length} more`
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`
}

/** `container "web"` or `containers "web" and "api"`. */
export function containersNamed (names: readonly string[]): string {
  return `${names.length === 1 ? 'container' : 'containers'} ${quoteNames(names)}`
}
