/**
 * The way out for kubeconfigs the small client does not read (kubeconfig.ts: exec plugins such as
 * `aws eks get-token`, auth-provider, impersonation, proxy-url, several files in KUBECONFIG):
 * @kubernetes/client-node loads the file and makes the credentials — it runs the plugin and caches
 * what it gives until it expires — and the small client sends the requests. Imported only then.
 */
import type { RequestOptions } from 'node:https'
import type { KubeAccess, KubeTarget } from './access.js'

/** Access through client-node's KubeConfig for `target` (its file, or its default search). */
export async function clientNodeAccess (target: KubeTarget): Promise<KubeAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const config = new KubeConfig()
  // Worded as kubeconfig.ts words what is wrong with a file: one wording, whichever reads it.
  const named = `kubeconfig ${target.kubeconfig ?? '(default)'}`
  try {
    if (target.kubeconfig === undefined) config.loadFromDefault()
    else config.loadFromFile(target.kubeconfig)
  } catch (err) {
    throw new Error(`cannot load ${named}: ${(err as Error).message}`, { cause: err })
  }
  if (target.context !== undefined) {
    if (config.getContextObject(target.context) === null) {
      throw new Error(`${named}: it has no context ${JSON.stringify(target.context)}`)
    }
    config.setCurrentContext(target.context)
  }
  const server = config.getCurrentCluster()?.server
  if (server === undefined) throw new Error(`${named}: it names no current cluster`)
  const options = async (): Promise<RequestOptions> => {
    const opts: RequestOptions = {}
    await config.applyToHTTPSOptions(opts)
    return opts
  }
  const first = await options()
  const tls = {
    ca: first.ca as Buffer | undefined,
    cert: first.cert as Buffer | undefined,
    key: first.key as Buffer | undefined,
    rejectUnauthorized: first.rejectUnauthorized !== false,
    servername: first.servername
  }
  return {
    server: server.replace(/\/+$/, ''),
    tls,
    async headers () {
      // Each call: the plugin's token is client-node's to refresh when it expires.
      const { headers = {}, auth } = await options()
      const out: Record<string, string> = {}
      for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value
      if (auth !== undefined && auth !== null) out.authorization = `Basic ${Buffer.from(auth).toString('base64')}`
      return out
    }
  }
}
