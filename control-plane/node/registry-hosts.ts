/**
 * containerd's registry configuration for the node (CRI's `config_path`: a folder with one
 * `hosts.toml` per registry host). The node's own registry (control-plane/registry.ts) is reached
 * over plain HTTP, and only it: every other host (`_default`: registry.k8s.io, docker.io, ghcr.io,
 * …) is served by that registry as its mirror, its server included, so that a Pod names an image
 * as users write it (`registry.k8s.io/pause:3.10`, `nginx:1.22`), the pull comes from the node's
 * registry under the same path (`pause:3.10`, `library/nginx:1.22`), and a name the registry lacks
 * fails with its 404: nothing is ever asked of the internet.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The folder containerd's `config_path` names, in the node's directory. */
export function registryHostsDir (nodeDir: string): string {
  return join(nodeDir, 'registry-hosts')
}

/**
 * The hosts.toml files, by folder name, for a registry at `registry` (`HOST:PORT`). containerd 1.6
 * rejects a file without a `[host]` table (and then falls back to the upstream host itself), so
 * each names the registry twice: as its host, and as its server.
 */
export function registryHostsFiles (registry: string): Record<string, string> {
  const toml = `server = "http://${registry}"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`
  return {
    [registry]: `# The node's registry (control-plane/registry.ts), over plain HTTP.\n${toml}`,
    _default: `# Every other registry host: served by the node's registry as its mirror, and nothing else.\n${toml}`
  }
}

/** Writes the hosts folder for a registry at `registry` (`HOST:PORT`). */
export async function writeRegistryHosts (nodeDir: string, registry: string): Promise<void> {
  for (const [host, toml] of Object.entries(registryHostsFiles(registry))) {
    await mkdir(join(registryHostsDir(nodeDir), host), { recursive: true })
    await writeFile(join(registryHostsDir(nodeDir), host, 'hosts.toml'), toml)
  }
}
