/**
 * The cluster's container registry: go-containerregistry's registry, the handler `crane registry
 * serve` runs, in a program of ours that adds TLS (modules/crane/registry/main.go, built from
 * crane's Go module by tools.ts). With nodes, one per machine listens on the bridge's gateway,
 * 10.88.0.1:5000, over HTTPS with a certificate of the cluster's own CA (registry-tls.ts), and
 * every node's containerd pulls every image from it (node/machine-registry.ts). Blobs are
 * kept on disk in `.lameduck/registry/` (content-addressed: pushing an image whose layers are
 * already there uploads nothing), manifests and tags in the registry's memory: it starts empty of
 * names with each cluster, and what it serves is what that cluster's start pushed.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lameduckDir } from './paths.js'
import { get, waitUntil } from './probe.js'
import { startComponent, tailLog, type Component } from './processes.js'
import type { RegistryTls } from './registry-tls.js'
import { ensureTool } from './tools.js'

/** The registry's port on the node's address: the usual one for a registry. */
export const REGISTRY_PORT = 5000

/** Where the registry keeps its blobs between clusters. */
export const registryStorage = join(lameduckDir, 'registry')

/** How to start one registry. */
export interface RegistryOptions {
  /** `HOST:PORT` to listen on. */
  address: string
  /** The folder of its log (`registry.log`). */
  dir: string
  /** Its blobs; default `.lameduck/registry/`. */
  storage?: string
  detached?: boolean
  log?: (line: string) => void
  /** Serve HTTPS with these files; plain HTTP without. */
  tls?: RegistryTls
  /** Called with its PID as soon as it is started, before it serves: so that a failed start is stopped too. */
  onStart?: (pid: number) => Promise<void>
}

/** Starts a registry and resolves once `GET /v2/` answers 200; on failure the error quotes its log. */
export async function startRegistry (o: RegistryOptions): Promise<Component> {
  const registry = await ensureTool('registry', o.log ?? (() => {}))
  const storage = o.storage ?? registryStorage
  await mkdir(storage, { recursive: true })
  const tls = o.tls === undefined ? [] : ['--tls-cert', o.tls.cert, '--tls-key', o.tls.key]
  const args = ['--address', o.address, '--disk', storage, ...tls]
  const component = startComponent('registry', registry, args, { dir: o.dir, detached: o.detached ?? false })
  await o.onStart?.(component.pid)
  const scheme = o.tls === undefined ? 'http' : 'https'
  const ca = o.tls === undefined ? {} : { ca: await readFile(o.tls.ca, 'utf8') }
  const serving = async (): Promise<boolean> => (await get(`${scheme}://${o.address}/v2/`, ca)).status === 200
  try {
    await waitUntil('registry', serving, { timeoutMs: 30_000, exited: component.exited })
  } catch (err) {
    const tail = await tailLog(component.logPath)
    throw new Error(`${(err as Error).message}\n--- last lines of ${component.logPath} ---\n${tail}`, { cause: err })
  }
  return component
}
