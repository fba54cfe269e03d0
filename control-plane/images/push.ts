/**
 * Images into the node's registry, under the path containerd asks it for: a Pod names an image as
 * users write it (`nginx:1.22`, `registry.k8s.io/pause:3.10`), and the registry serves every host's
 * images as their mirror (node/registry-hosts.ts), so `nginx:1.22` is pushed as
 * `REGISTRY/library/nginx:1.22`. crane pushes them from files: the OCI image layouts buildah's
 * images are exported to (buildah.ts), the node's own docker-archives (node/images.ts). The
 * manifest keeps its bytes, so its digest is the same in the layout, the registry and a release.
 */
import { run } from '../node/system.js'
import { ensureTool } from '../tools.js'

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

/**
 * Pushes an image to the registry at `registry` as `ref` would be pulled from it: `image` is an OCI
 * image layout folder or a docker-archive file. Blobs the registry has are not sent again.
 */
export async function pushImage (image: string, ref: string, registry: string, log?: (line: string) => void): Promise<void> {
  const crane = await ensureTool('crane', log ?? (() => {}))
  await run(crane, ['push', '--insecure', image, registryReference(ref, registry)])
}
