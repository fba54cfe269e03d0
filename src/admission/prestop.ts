/**
 * The preStop hooks lameduck injects, and how it recognises its own on a second pass.
 */
import type { Handler } from './types.js'

/** A Kubernetes `lifecycle.preStop` handler, as plain JSON. */
export type PreStop =
  | { sleep: { seconds: number } }
  | { exec: { command: string[] } }

/**
 * nginx treats SIGTERM as a fast shutdown that drops open connections; `nginx -s quit` is its
 * graceful one (https://nginx.org/en/docs/control.html). The hook asks for it after the pause and
 * waits for the master to exit, so the kubelet's SIGTERM finds nothing left to cut off.
 */
const PRESET_IMAGES = new Set(['nginx', 'openresty', 'nginx-unprivileged'])

/** True when an image reference names nginx or openresty, whatever the registry, tag or digest. */
export function isNginxImage (image: string | undefined): boolean {
  if (image === undefined) return false
  // On every admission, for every container: index arithmetic rather than split()'s arrays.
  const at = image.indexOf('@')
  const withoutDigest = at === -1 ? image : image.slice(0, at)
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1)
  const colon = lastPart.indexOf(':')
  return PRESET_IMAGES.has((colon === -1 ? lastPart : lastPart.slice(0, colon)).toLowerCase())
}

function nginxQuit (sleep: number): string[] {
  const pidFiles = '[ -e /var/run/nginx.pid ] || [ -e /run/nginx.pid ]'
  return ['/bin/sh', '-c', `sleep ${sleep}; nginx -s quit; while ${pidFiles}; do sleep 1; done`]
}

/** The hook for one container: native sleep, or exec (with the nginx preset where the image fits). */
export function buildPreStop (handler: Handler, sleep: number, image: string | undefined): PreStop {
  if (handler === 'sleep') return { sleep: { seconds: sleep } }
  const command = isNginxImage(image) ? nginxQuit(sleep) : ['sleep', String(sleep)]
  return { exec: { command } }
}
