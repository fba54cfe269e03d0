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
import { registryReference } from './reference.js'

/**
 * Pushes an image to the registry at `registry` as `ref` would be pulled from it: `image` is an OCI
 * image layout folder or a docker-archive file. Blobs the registry has are not sent again.
 */
export async function pushImage (image: string, ref: string, registry: string, log?: (line: string) => void): Promise<void> {
  const crane = await ensureTool('crane', log ?? (() => {}))
  await run(crane, ['push', '--insecure', image, registryReference(ref, registry)])
}
