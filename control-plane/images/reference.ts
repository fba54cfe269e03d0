/**
 * Image references as containerd resolves them, and where the nodes' registry keeps each: it serves
 * every host's images as their mirror (node/registry-hosts.ts), under the path of the reference.
 * Pure: push.ts pushes there.
 */

/** A reference split as containerd resolves it. */
export interface Reference { host: string, path: string, tag: string }

/**
 * Splits `ref` the way containerd (and docker) normalise it: a first component with a dot, a colon
 * or `localhost` is the host, otherwise the host is docker.io, whose one-component names live under
 * `library/`; no tag is `latest`. Digests are not handled: the node's images are pushed by tag.
 */
export function parseReference (ref: string): Reference {
  if (ref.includes('@')) throw new Error(`${ref}: a reference by digest cannot be pushed by tag`)
  const slash = ref.indexOf('/')
  const first = slash < 0 ? '' : ref.slice(0, slash)
  const hasHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')
  const host = hasHost ? first : 'docker.io'
  let rest = hasHost ? ref.slice(slash + 1) : ref
  const colon = rest.lastIndexOf(':')
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : 'latest'
  if (colon > rest.lastIndexOf('/')) rest = rest.slice(0, colon)
  const path = host === 'docker.io' && !rest.includes('/') ? `library/${rest}` : rest
  if (path === '' || tag === '') throw new Error(`${ref}: not an image reference`)
  return { host, path, tag }
}

/** Where `ref` lives in the registry at `registry` (`HOST:PORT`): its path and tag, under that address. */
export function registryReference (ref: string, registry: string): string {
  const { path, tag } = parseReference(ref)
  return `${registry}/${path}:${tag}`
}
