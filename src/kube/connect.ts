/**
 * Which cluster a command talks to (serve, certs, check: one search for all), found as kubectl and
 * client-node's `loadFromDefault` find it: the given file; else $KUBECONFIG; else ~/.kube/config;
 * else the Pod's service account; else http://localhost:8080. At the target's context, or the
 * current one. A kubeconfig the small client cannot read goes to @kubernetes/client-node
 * (client-node.ts), loaded only then.
 */
import { access as fileAccess } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { inClusterAccess, SERVICE_ACCOUNT_DIR, type KubeAccess, type KubeTarget } from './access.js'
import { createKubeClient, type KubeClient } from './client.js'
import { NOWHERE } from './errors.js'
import { readKubeconfig } from './kubeconfig.js'

/** Where to look; the defaults are the process's. */
export interface Environment {
  readonly env?: NodeJS.ProcessEnv
  readonly serviceAccountDir?: string
  /** Told why client-node is loaded, when it is. */
  readonly onFallback?: (reason: string) => void
}

const exists = async (file: string): Promise<boolean> => await fileAccess(file).then(() => true, () => false)

/** The access for `target`. Throws an Error naming what is wrong with the kubeconfig. */
export async function resolveAccess (target: KubeTarget, environment: Environment = {}): Promise<KubeAccess> {
  const { env = process.env, serviceAccountDir = SERVICE_ACCOUNT_DIR, onFallback = () => {} } = environment
  const viaClientNode = async (reason: string): Promise<KubeAccess> => {
    onFallback(reason)
    const { clientNodeAccess } = await import('./client-node.js')
    return await clientNodeAccess(target)
  }
  const file = async (path: string): Promise<KubeAccess> => {
    const read = await readKubeconfig(path, target.context)
    return 'access' in read ? read.access : await viaClientNode(`kubeconfig ${path}: ${read.unsupported}`)
  }
  if (target.kubeconfig !== undefined) return await file(target.kubeconfig)
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(path => path !== '')
  if (listed.length > 1) return await viaClientNode('KUBECONFIG names several files, to be merged')
  if (listed.length === 1) return await file(listed[0]!)
  const home = env.HOME === undefined || env.HOME === '' ? undefined : join(env.HOME, '.kube', 'config')
  if (home !== undefined && await exists(home)) return await file(home)
  if (await exists(join(serviceAccountDir, 'token'))) return await inClusterAccess(env, serviceAccountDir)
  if (target.context !== undefined) {
    throw new Error(`no kubeconfig found, so no context ${JSON.stringify(target.context)}`)
  }
  return { server: NOWHERE, tls: { rejectUnauthorized: true }, headers: async () => ({}) }
}

/** A client for `target` (see `resolveAccess`). */
export async function connectKube (target: KubeTarget, environment: Environment = {}): Promise<KubeClient> {
  return createKubeClient(await resolveAccess(target, environment))
}
