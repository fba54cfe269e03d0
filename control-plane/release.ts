/**
 * The pinned release, read from the committed wrapper modules: their go.mod files are the single
 * place that names the Kubernetes, etcd and Helm versions (regenerate them with `modules.ts`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { modulesDir } from './paths.js'

/** The wrapper modules, by directory name under `control-plane/modules/`. */
export const kubernetesModuleDir = join(modulesDir, 'kubernetes')
export const etcdModuleDir = join(modulesDir, 'etcd')
export const helmModuleDir = join(modulesDir, 'helm')

/** The versions the wrapper modules build. */
export interface Release {
  /** e.g. `v1.37.2` */
  kubernetes: string
  /** e.g. `v3.7.0` */
  etcd: string
  /** e.g. `v4.3.2` */
  helm: string
}

/** The version a go.mod requires for `module`, or an error naming the file. */
export function requiredVersion (goMod: string, module: string, file: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod)
  if (match === null) throw new Error(`${file} does not require ${module}`)
  return match[1]!
}

/** Reads the pinned Kubernetes, etcd and Helm versions from the committed go.mod files. */
export async function readRelease (): Promise<Release> {
  const pinned = async (dir: string, module: string): Promise<string> => {
    const file = join(dir, 'go.mod')
    return requiredVersion(await readFile(file, 'utf8'), module, file)
  }
  return {
    kubernetes: await pinned(kubernetesModuleDir, 'k8s.io/kubernetes'),
    etcd: await pinned(etcdModuleDir, 'go.etcd.io/etcd/server/v3'),
    helm: await pinned(helmModuleDir, 'helm.sh/helm/v4')
  }
}

/** `v1.37.2` → `{ major: '1', minor: '37' }`, as the version ldflags want them. */
export function majorMinor (version: string): { major: string, minor: string } {
  const match = /^v(\d+)\.(\d+)\.\d+$/.exec(version)
  if (match === null) throw new Error(`not a release version: ${version}`)
  return { major: match[1]!, minor: match[2]! }
}
