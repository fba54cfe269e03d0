/**
 * Where the control plane keeps its files. Everything built or run lives under `.lameduck/`
 * (git-ignored); only the generator code and the wrapper modules' go.mod/go.sum are committed.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (this file sits in `<root>/control-plane/`). */
export const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)))

/** `.lameduck/`: built binaries, the CLI's cluster and its kubeconfig. */
export const lameduckDir = join(repoRoot, '.lameduck')

/** Built etcd, kube-apiserver, kube-controller-manager, kubectl and helm, plus the build stamp. */
export const binDir = join(lameduckDir, 'bin')

/** The stamp that records which release and recipe the binaries in `binDir` came from. */
export const stampPath = join(binDir, 'build-stamp.json')

/** Committed wrapper modules (go.mod + go.sum) that `go build` the release's commands. */
export const modulesDir = join(repoRoot, 'control-plane', 'modules')

/** The cluster that `npm run cluster:up` starts, and its state file. */
export const cliClusterDir = join(lameduckDir, 'cluster')

/** A copy of the CLI cluster's kubeconfig at a short, stable path. */
export const cliKubeconfigPath = join(lameduckDir, 'kubeconfig')

/** The control plane's binaries, by component name, and the Helm CLI that installs lameduck's chart. */
export const binaryNames = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'helm'] as const

/** What a node adds: built only when a node is asked for (agnhost is manifests/loadtest's sample app). */
export const nodeBinaryNames = ['kube-scheduler', 'kubelet', 'kube-proxy', 'agnhost'] as const
export type BinaryName = typeof binaryNames[number] | typeof nodeBinaryNames[number]

/** Absolute path of one built binary. */
export function binaryPath (name: BinaryName): string {
  return join(binDir, name)
}
