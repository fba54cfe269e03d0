/**
 * Runs the built helm (`.lameduck/bin/helm`), against one cluster's kubeconfig or none (`helm lint`,
 * `helm template`). Helm's cache, configuration and data go under `.lameduck/helm/`, never the
 * user's home, and it sees no proxy settings (the API server is on loopback or the Pod bridge). A
 * non-zero exit is returned, not thrown: tests assert on it.
 */
import { join } from 'node:path'
import { childEnv } from './env.js'
import { runTool, type KubectlOptions, type KubectlResult } from './kubectl.js'
import { binaryPath, lameduckDir } from './paths.js'

const home = join(lameduckDir, 'helm')

/** Runs `helm [--kubeconfig <kubeconfigPath>] ...args` (a timeout gives code 124, as kubectl's), `extra` in its env. */
export async function runHelm (kubeconfigPath: string | undefined, args: string[], opts: KubectlOptions = {},
  extra: Record<string, string> = {}): Promise<KubectlResult> {
  const env = childEnv({
    ...extra,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...(kubeconfigPath === undefined ? {} : { KUBECONFIG: kubeconfigPath })
  })
  const all = kubeconfigPath === undefined ? args : ['--kubeconfig', kubeconfigPath, ...args]
  return await runTool(binaryPath('helm'), all, env, opts)
}
