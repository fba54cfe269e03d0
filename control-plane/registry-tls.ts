/**
 * The machine registry's TLS: a CA of the cluster's own and a serving certificate for the registry's
 * address, made at each start of a cluster with nodes (in its folder, gone with it), so that containerd (its
 * hosts.toml's `ca`), crane and helm (SSL_CERT_FILE) reach the registry over HTTPS as they reach
 * any registry, and the chart is installed with the command a user runs (no `--plain-http`).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createCa, issueServing } from '../src/certs/pki.js'

/** The files of a registry's TLS. */
export interface RegistryTls { readonly ca: string, readonly cert: string, readonly key: string }

/** Where a cluster's registry keeps them: `DIR/registry-tls/`. */
export function registryTlsFiles (dir: string): RegistryTls {
  const tls = join(dir, 'registry-tls')
  return { ca: join(tls, 'ca.crt'), cert: join(tls, 'tls.crt'), key: join(tls, 'tls.key') }
}

/** Makes a CA and a certificate for `ip` signed by it into `dir`'s registry-tls/ (valid 30 days: a cluster's life). */
export async function makeRegistryTls (dir: string, ip: string): Promise<RegistryTls> {
  const files = registryTlsFiles(dir)
  const validityMs = 30 * 24 * 3600_000
  const now = new Date()
  const ca = await createCa({ validityMs, now })
  const names = { commonName: `registry ${ip}`, dnsNames: [], ipAddresses: [ip] }
  const serving = await issueServing(ca, { ...names, validityMs, now })
  await mkdir(join(dir, 'registry-tls'), { recursive: true })
  await writeFile(files.ca, ca.cert)
  await writeFile(files.cert, serving.cert)
  await writeFile(files.key, serving.key, { mode: 0o600 })
  return files
}
