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
 * After the pause, the hook sends SIGQUIT (nginx's graceful quit) to each worker process, found by
 * the title nginx gives it ("nginx: worker process" in /proc/PID/cmdline), and waits until those
 * workers are gone (or zombies their master has not reaped yet): each one finishes the requests in
 * flight, then exits. Their master stays up and starts fresh, idle workers. The hook then returns 0,
 * and the kubelet stops the container with the image's stop signal: SIGTERM (a fast shutdown, with
 * nothing left in flight to cut) or SIGQUIT. Quitting the master from the hook instead ends the
 * container while the hook still runs: the kubelet kills the hook and records a FailedPreStopHook
 * Warning event for every Pod. The pattern is anchored, so the hook's own command line never
 * matches; without a worker (nginx with `master_process off`), the hook is the pause alone.
 * docs/rules.md#nginx-images.
 */
function nginxDrain (sleep: number): string[] {
  const isWorker = 'grep -qs \'^nginx: worker\' "$p/cmdline"'
  const find = `w=; for p in /proc/[0-9]*; do if ${isWorker}; then w="$w \${p#/proc/}"; fi; done`
  const isAlive = '[ -e "/proc/$p" ] && ! grep -qs \'^State:.Z\' "/proc/$p/status"'
  const alive = `a=; for p in $w; do if ${isAlive}; then a=1; fi; done`
  const drain = `kill -QUIT $w; while ${alive}; [ -n "$a" ]; do sleep 1; done`
  return ['/bin/sh', '-c', `sleep ${sleep}; ${find}; if [ -n "$w" ]; then ${drain}; fi`]
}

/** The hook for one container: native sleep, or exec (with the nginx preset where the image fits). */
export function buildPreStop (handler: AutoHandler, sleep: number, image: string | undefined): PreStop {
  if (handler === 'sleep') return { sleep: { seconds: sleep } }
  const command = isNginxImage(image) ? nginxDrain(sleep) : ['sleep', String(sleep)]
  return { exec: { command } }
}
