/**
 * Service-mesh proxies run as a regular container next to the app (istio-proxy, linkerd-proxy,
 * Envoy-based meshes) unless the mesh injects them as native sidecars. Such a proxy gets SIGTERM
 * with the app: if the app paused and the proxy did not, the proxy would stop forwarding during the
 * very pause meant to keep traffic flowing. So a proxy always gets the same pause as the app.
 */
import type { Container } from './pod.js'

/** Container names the common meshes inject their proxy as. */
export const PROXY_NAMES = new Set(['istio-proxy', 'linkerd-proxy', 'envoy', 'envoy-sidecar', 'consul-dataplane', 'consul-connect-envoy-sidecar', 'kuma-sidecar', 'osm-envoy'])

/** Image names (the last path part, without tag) of those proxies. */
export const PROXY_IMAGES = new Set(['proxyv2', 'envoy', 'consul-dataplane', 'kuma-dp'])

function imageName (image: string | undefined): string {
  if (image === undefined) return ''
  const path = image.split('@')[0]!
  const last = path.slice(path.lastIndexOf('/') + 1)
  return last.split(':')[0]!.toLowerCase()
}

/** True when a regular container is a service-mesh proxy, by its name or its image. */
export function isMeshProxy (container: Container): boolean {
  return PROXY_NAMES.has(container.name) || PROXY_IMAGES.has(imageName(container.image))
}
