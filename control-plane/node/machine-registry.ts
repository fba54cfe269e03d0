/**
 * The machine's registry, one for all of a cluster's nodes (control-plane/registry.ts): started with
 * the machine's share (nodes.ts), on the bridge's gateway where every node's containerd reaches it
 * from its namespace, over HTTPS with a CA made in the cluster's folder. Every node gets the same
 * hosts.toml and CA (registry-hosts.ts); the nodes' own images (pause, agnhost) are pushed before
 * any node starts, so a node added later pulls what the others pulled.
 */
import { pushImage, type RegistryEndpoint } from '../images/push.js'
import { REGISTRY_PORT, startRegistry } from '../registry.js'
import { makeRegistryTls, registryTlsFiles } from '../registry-tls.js'
import { NODE } from './config.js'
import { nodeImages } from './images.js'

/** The machine's registry, `HOST:PORT`: on the bridge's gateway, where containerd and Pods reach it. */
export const MACHINE_REGISTRY = `${NODE.gateway}:${REGISTRY_PORT}`

/** The registry of a cluster with nodes in `dir`: its address and the CA of its HTTPS. */
export function machineRegistry (dir: string): Required<RegistryEndpoint> {
  return { address: MACHINE_REGISTRY, ca: registryTlsFiles(dir).ca }
}

/** How to start it: the cluster's folder, and where its PID is recorded at once. */
export interface MachineRegistryOptions {
  dir: string
  detached: boolean
  log: (line: string) => void
  onStart: (pid: number) => Promise<void>
}

/** Makes its TLS, starts it, and pushes the nodes' own images; resolves with its endpoint. */
export async function startMachineRegistry (o: MachineRegistryOptions): Promise<Required<RegistryEndpoint>> {
  const tls = await makeRegistryTls(o.dir, NODE.gateway)
  const images = await nodeImages(o.log)
  await startRegistry({
    address: MACHINE_REGISTRY,
    dir: o.dir,
    detached: o.detached,
    log: o.log,
    tls,
    onStart: o.onStart
  })
  const endpoint = machineRegistry(o.dir)
  for (const { archive, ref } of images) await pushImage(archive, ref, endpoint, o.log)
  return endpoint
}
