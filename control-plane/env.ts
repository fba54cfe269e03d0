/**
 * The environment handed to Go and to the control plane's processes: the caller's, without proxy
 * settings, so that nothing on loopback (etcd, the API server, a webhook) is sent through a proxy.
 */

const proxyVariables = ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy']

/** A copy of `process.env` without proxy variables, with `NO_PROXY` covering loopback, plus `extra`. */
export function childEnv (extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !proxyVariables.includes(key.toLowerCase())) env[key] = value
  }
  const noProxy = '127.0.0.1,localhost,::1,.svc'
  return { ...env, NO_PROXY: noProxy, no_proxy: noProxy, ...extra }
}
