/**
 * The preStop hooks lameduck injects, and how it recognises its own on a second pass.
 */
import type { AutoHandler } from './types.js'

/** A Kubernetes `lifecycle.preStop` handler, as plain JSON. */
export type PreStop =
  | { sleep: { seconds: number } }
  | { exec: { command: string[] } }

/**
 * nginx treats SIGTERM as a fast shutdown that drops open connections; SIGQUIT is its graceful one
 * (https://nginx.org/en/docs/control.html). The images people run: nginx and bitnami/nginx,
 * nginxinc/nginx-unprivileged, registry.k8s.io/nginx-slim, openresty/openresty and its variants.
 */
export const PRESET_IMAGES = new Set(['nginx', 'nginx-slim', 'nginx-unprivileged', 'openresty'])

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

/**
 * After the pause, the hook finds the master by the title nginx gives it ("nginx: master process"
 * in /proc/PID/cmdline), sends it SIGQUIT and waits until it is gone (or a zombie its parent has not
 * reaped yet), so the kubelet's SIGTERM finds nothing left to cut off. It does not rely on the pid
 * file, which is not under /run everywhere (nginx-unprivileged: /tmp/nginx.pid; bitnami:
 * /opt/bitnami/nginx/tmp/nginx.pid). Only if no master is found does it fall back to `nginx -s quit`.
 * The pattern is anchored, so the hook's own command line (which contains it) never matches.
 */
function nginxQuit (sleep: number): string[] {
  const find = 'm=; for p in /proc/[0-9]*; do if grep -qs \'^nginx: master\' "$p/cmdline"; then m=${p#/proc/}; break; fi; done'
  const wait = 'while [ -e "/proc/$m" ] && ! grep -qs \'^State:.Z\' "/proc/$m/status"; do sleep 1; done'
  return ['/bin/sh', '-c', `sleep ${sleep}; ${find}; if [ -n "$m" ]; then kill -QUIT "$m"; ${wait}; else nginx -s quit; fi`]
}

/** The hook for one container: native sleep, or exec (with the nginx preset where the image fits). */
export function buildPreStop (handler: AutoHandler, sleep: number, image: string | undefined): PreStop {
  if (handler === 'sleep') return { sleep: { seconds: sleep } }
  const command = isNginxImage(image) ? nginxQuit(sleep) : ['sleep', String(sleep)]
  return { exec: { command } }
}
