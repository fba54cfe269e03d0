/**
 * The versions a release must agree on: package.json's, the chart's version and appVersion, and the
 * tag of lameduck's image wherever the repository names it (the chart's values, manifests/). Pure:
 * sources.ts reads them from the files.
 */

/** One version, and where it was read. */
export interface VersionSource { readonly where: string, readonly version: string }

/**
 * A one-line error naming every source that disagrees with package.json's version, or undefined
 * when they all agree.
 */
export function versionMismatch (packageVersion: string, sources: readonly VersionSource[]): string | undefined {
  const others = sources.filter(source => source.version !== packageVersion)
  if (others.length === 0) return undefined
  const named = others.map(o => `${o.where} has ${o.version === '' ? 'none' : o.version}`)
  return `the versions disagree: package.json has ${packageVersion}, ${named.join(', ')}`
}

/** The tag of an image reference (`repo:tag`, `host:port/repo:tag`, `repo:tag@sha256:…`), or '' without one. */
export function imageTag (ref: string): string {
  const name = ref.split('@')[0]!
  const colon = name.lastIndexOf(':')
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : ''
}
