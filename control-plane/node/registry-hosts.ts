/**
 * containerd's registry configuration, the same for every node (CRI's `config_path`: a folder with
 * one `hosts.toml` per registry host). The machine's registry (machine-registry.ts) is reached
 * over HTTPS, its certificate checked against the registry's CA (`ca`), and only it: every
 * other host (`_default`: registry.k8s.io, docker.io, ghcr.io, …) is served by that registry as its
 * mirror, its server included, so that a Pod names an image as users write it
 * (`registry.k8s.io/pause:3.10`, `nginx:1.22`), the pull comes from the nodes' registry under the
 * same path (`pause:3.10`, `library/nginx:1.22`), and a name the registry lacks fails with its 404:
 * nothing is ever asked of the internet.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The folder containerd's `config_path` names, in the node's directory. */
export function registryHostsDir (nodeDir: string): string {
  return join(nodeDir, 'registry-hosts')
}

/**
 * The hosts.toml files, by folder name, for a registry at `registry` (`HOST:PORT`) whose HTTPS
 * certificate `ca` (a file) signed. containerd 1.6 rejects a file without a `[host]` table (and
 * then falls back to the upstream host itself), so each names the registry twice: as its host, and
 * as its server. Both with the CA: on a 404 from the host containerd asks the server too, and its
 * answer, not found, is then the error a Pod shows (without the CA it would be the certificate's).
 */
export function registryHostsFiles (registry: string, ca: string): Record<string, string> {
  const trust = `ca = ${JSON.stringify(ca)}\n`
  const host = `[host."https://${registry}"]\n  capabilities = ["pull", "resolve"]\n  ${trust}`
  const toml = `server = "https://${registry}"\n${trust}\n${host}`
  return {
    [registry]: `# The nodes' registry (control-plane/registry.ts), over HTTPS with the registry's CA.\n${toml}`,
    _default: `# Every other registry host: served by the nodes' registry as its mirror, and nothing else.\n${toml}`
  }
}

/** Writes the hosts folder for a registry at `registry` (`HOST:PORT`) with the CA `ca`. */
export async function writeRegistryHosts (nodeDir: string, registry: string, ca: string): Promise<void> {
  for (const [host, toml] of Object.entries(registryHostsFiles(registry, ca))) {
    await mkdir(join(registryHostsDir(nodeDir), host), { recursive: true })
    await writeFile(join(registryHostsDir(nodeDir), host, 'hosts.toml'), toml)
  }
}
