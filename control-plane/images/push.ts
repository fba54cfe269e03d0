/**
 * Images into the nodes' registry, under the path containerd asks it for: a Pod names an image as
 * users write it (`nginx:1.22`, `registry.k8s.io/pause:3.10`), and the registry serves every host's
 * images as their mirror (node/registry-hosts.ts), so `nginx:1.22` is pushed as
 * `REGISTRY/library/nginx:1.22`. crane pushes them from files: the OCI image layouts buildah's
 * images are exported to (buildah.ts), the node's own docker-archives (node/images.ts). The
 * manifest keeps its bytes, so its digest is the same in the layout, the registry and a release.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { childEnv } from '../env.js'
import { ensureTool } from '../tools.js'
import { registryReference } from './reference.js'

const exec = promisify(execFile)

/** A registry to push to: `HOST:PORT`, and the CA its HTTPS certificate is signed by (plain HTTP without). */
export interface RegistryEndpoint { readonly address: string, readonly ca?: string }

/**
 * Pushes an image to `registry` as `ref` would be pulled from it: `image` is an OCI image layout
 * folder or a docker-archive file. Blobs the registry has are not sent again. Over HTTPS, crane
 * trusts the registry's CA through SSL_CERT_FILE, as any Go program does; over plain HTTP it is
 * told so (`--insecure`).
 */
export async function pushImage (image: string, ref: string, registry: RegistryEndpoint, log?: (line: string) => void):
Promise<void> {
  const crane = await ensureTool('crane', log ?? (() => {}))
  const insecure = registry.ca === undefined ? ['--insecure'] : []
  const env = childEnv(registry.ca === undefined ? {} : { SSL_CERT_FILE: registry.ca })
  const target = registryReference(ref, registry.address)
  try {
    await exec(crane, ['push', ...insecure, image, target], { env, maxBuffer: 16 << 20 })
  } catch (err) {
    const said = ((err as { stderr?: string }).stderr ?? String(err)).trim()
    throw new Error(`crane push ${image} ${target}: ${said}`, { cause: err })
  }
}
