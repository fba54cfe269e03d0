/**
 * etcd, kube-apiserver and kube-controller-manager started in turn, each waited for until ready and
 * recorded as soon as it runs (with nodes, in their state file, so that the janitor can stop them
 * too); a failure quotes the failing component's log.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiserverArgs, apiserverCertFile, controllerManagerArgs, etcdArgs, type Ports } from './components.js'
import { writeCredentials } from './credentials.js'
import { writeKubeconfig } from './kubeconfig.js'
import { binaryPath } from './paths.js'
import { freePorts } from './ports.js'
import { get, waitUntil, type ProbeAuth } from './probe.js'
import { startComponent, tailLog, type Component } from './processes.js'
import { orphans } from './cluster-handle.js'
import { NODE, type NodeLifecycle } from './node/config.js'
import type { NodeApi } from './node/node.js'

/** Starts a component and waits until `ready` passes; on failure, the error quotes its log. */
async function startAndWait (
  started: Component[], name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager', args: string[],
  opts: { dir: string, detached: boolean }, ready: () => Promise<boolean>, timeoutMs: number
): Promise<void> {
  const component = startComponent(name, binaryPath(name), args, opts)
  started.push(component)
  if (!opts.detached) orphans.add(component.pid)
  try {
    await waitUntil(name, ready, { timeoutMs, exited: component.exited })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const tail = await tailLog(component.logPath)
    throw new Error(`${message}\n--- last lines of ${component.logPath} ---\n${tail}`, { cause: err })
  }
}

/** `{ lifecycle }` when there is one: an optional property is absent, never undefined. */
export function lifecycleOf (lifecycle: NodeLifecycle | undefined): { lifecycle?: NodeLifecycle } {
  return lifecycle === undefined ? {} : { lifecycle }
}

/** What starting the control plane needs; `record` saves the PIDs started so far with the nodes' state. */
export interface ControlPlaneStart {
  dir: string
  nodes: number
  lifecycle: NodeLifecycle | undefined
  spawnOpts: { dir: string, detached: boolean }
  components: Component[]
  record: () => Promise<void>
  step: (what: string) => void
}

/** Starts a component, records its PID at once, and waits until it is ready. */
async function startRecorded (c: ControlPlaneStart, start: () => Promise<void>): Promise<void> {
  const starting = start()
  starting.catch(() => undefined) // awaited below, once the PID is recorded
  await c.record()
  await starting
}

/** etcd, kube-apiserver and kube-controller-manager, in turn, each ready; resolves with how to reach the API server. */
export async function startControlPlane (c: ControlPlaneStart): Promise<NodeApi> {
  const { dir, components, spawnOpts, lifecycle } = c
  const [etcdClient, etcdPeer, apiserver] = await freePorts(3) as [number, number, number]
  const ports: Ports = { etcdClient, etcdPeer, apiserver }
  const creds = await writeCredentials(dir)
  const address = c.nodes > 0 ? NODE.gateway : undefined
  const server = `https://${address ?? '127.0.0.1'}:${ports.apiserver}`
  const kubeconfigPath = join(dir, 'kubeconfig')
  const ok = async (url: string, auth?: ProbeAuth): Promise<boolean> => (await get(url, auth)).status === 200
  const etcdHealthy = (): Promise<boolean> => ok(`http://127.0.0.1:${ports.etcdClient}/health`)
  await startRecorded(c, () => startAndWait(components, 'etcd', etcdArgs(dir, ports), spawnOpts, etcdHealthy, 30_000))
  c.step('etcd healthy')
  const apiserverReady = (): Promise<boolean> => ok(`${server}/readyz`, { token: creds.token })
  const flags = apiserverArgs(dir, ports, creds, address, lifecycle)
  await startRecorded(c, () => startAndWait(components, 'kube-apiserver', flags, spawnOpts, apiserverReady, 90_000))
  c.step('kube-apiserver ready')
  await writeKubeconfig(kubeconfigPath, server, apiserverCertFile(dir), creds.token)
  const ca = await readFile(apiserverCertFile(dir), 'utf8')
  const withNodes = c.nodes > 0 ? { clusterCidr: NODE.clusterCidr, ...lifecycleOf(lifecycle) } : undefined
  const account = `${server}/api/v1/namespaces/default/serviceaccounts/default`
  const accountMade = (): Promise<boolean> => ok(account, { token: creds.token, ca })
  const kcm = controllerManagerArgs(dir, kubeconfigPath, creds, withNodes)
  await startRecorded(c, () => startAndWait(components, 'kube-controller-manager', kcm, spawnOpts, accountMade, 90_000))
  c.step('kube-controller-manager running; default ServiceAccount present')
  return { kubeconfigPath, server, token: creds.token, ca }
}
