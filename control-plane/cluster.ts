/**
 * A real local control plane for e2e tests and the demo: etcd, kube-apiserver and
 * kube-controller-manager on free loopback ports, in a fresh directory, with a kubeconfig for the
 * built kubectl. Without a node there is no kubelet and no scheduler: Pods are created and stay
 * Pending. With `node: true` (root only) a real node joins it (node/node.ts), and the API server
 * listens on the Pod bridge's gateway instead of loopback, so that Pods reach it too.
 *
 *   const cluster = await startCluster()
 *   await cluster.kubectl(['create', 'namespace', 'demo'])
 *   await cluster.stop()
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureBinaries } from './build.js'
import { apiserverArgs, apiserverCertFile, controllerManagerArgs, etcdArgs, type Ports } from './components.js'
import { writeCredentials } from './credentials.js'
import { prepareDir, removeDir } from './dirs.js'
import { writeKubeconfig } from './kubeconfig.js'
import { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js'
import { runHelm } from './helm.js'
import { binaryPath } from './paths.js'
import { freePorts } from './ports.js'
import { get, waitUntil } from './probe.js'
import { startComponent, stopInReverse, tailLog, type Component } from './processes.js'
import { NODE } from './node/config.js'
import { NODE_REGISTRY, prepareNode, startNode, stopNode, type NodeState } from './node/node.js'
import { registryTlsFiles } from './registry-tls.js'

export { ensureBinaries }

/** A running cluster. */
export interface Cluster {
  dir: string
  kubeconfigPath: string
  /** `https://127.0.0.1:PORT` */
  server: string
  /** The Kubernetes release, e.g. `v1.37.2`. */
  version: string
  /** etcd, kube-apiserver, kube-controller-manager. */
  pids: number[]
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>
  /** The built helm against this cluster (helm.ts). */
  helm(args: string[], opts?: KubectlOptions): Promise<KubectlResult>
  /** The node, when started with `node: true`. */
  node?: ClusterNode
  /** SIGTERM by PID, SIGKILL after a timeout; waits for exit. Idempotent. */
  stop(): Promise<void>
}

/** A cluster's node. */
export interface ClusterNode {
  readonly name: string
  /** Its address, on the Pod bridge: also the API server's. */
  readonly address: string
  readonly state: NodeState
  /** Its registry, `HOST:PORT`, where its containerd pulls every image from (push with images/push.ts). */
  readonly registry: string
  /** The CA the registry's HTTPS certificate is signed by (a PEM file); `helm` against this cluster trusts it. */
  readonly registryCa: string
}

/** Options for `startCluster`. */
export interface StartOptions {
  /** Where data, logs and the kubeconfig go; default a new temporary directory, removed by `stop()`. */
  dir?: string
  log?: (line: string) => void
  /** Start the processes in their own process group so they outlive this process (the CLI's `cluster:up`). */
  detached?: boolean
  /** Also a node: scheduler, kubelet, containerd, CNI, kube-proxy, cluster DNS (root only; one per machine). */
  node?: boolean
}

/** Starts a component and waits until `ready` passes; on failure, the error quotes its log. */
async function startAndWait (started: Component[], name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager', args: string[], opts: { dir: string, detached: boolean }, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const component = startComponent(name, binaryPath(name), args, opts)
  started.push(component)
  if (!opts.detached) orphans.add(component.pid)
  try {
    await waitUntil(name, ready, { timeoutMs, exited: component.exited })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new Error(`${message}\n--- last lines of ${component.logPath} ---\n${await tailLog(component.logPath)}`, { cause: err })
  }
}

/** Kills this process's non-detached clusters if it exits without stopping them. */
const orphans = new Set<number>()
process.on('exit', () => { for (const pid of orphans) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } } })

async function stopAll (pids: number[]): Promise<void> {
  await stopInReverse(pids)
  for (const pid of pids) orphans.delete(pid)
}

/**
 * Starts etcd, then kube-apiserver (waits for /readyz), then kube-controller-manager (waits for the
 * `default` ServiceAccount). A port taken between finding it free and binding it (another cluster
 * starting in parallel) gets a fresh set of ports and another try.
 */
export async function startCluster (opts: StartOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {})
  const { version } = await ensureBinaries({ log, node: opts.node ?? false })
  for (let attempt = 1; ; attempt++) {
    const { dir, owned } = await prepareDir(opts.dir)
    try {
      return await startOnce(dir, owned, version, opts.detached ?? false, opts.node ?? false, log)
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err
      log(`[cluster] a port was taken meanwhile; retrying with new ports (${String(err).split('\n')[0]})`)
      if (owned) await removeDir(dir)
    }
  }
}

async function startOnce (dir: string, owned: boolean, version: string, detached: boolean, withNode: boolean, log: (line: string) => void): Promise<Cluster> {
  const started = Date.now()
  const step = (what: string): void => { log(`[cluster] ${what} (${Date.now() - started} ms)`) }
  const spawnOpts = { dir, detached }
  const components: Component[] = []
  let node: NodeState | undefined
  try {
    const [etcdClient, etcdPeer, apiserver] = await freePorts(3) as [number, number, number]
    const ports: Ports = { etcdClient, etcdPeer, apiserver }
    const creds = await writeCredentials(dir)
    if (withNode) {
      node = await prepareNode(join(dir, 'node'), log)
      step(`node prepared: bridge ${NODE.bridge} ${NODE.gateway}, guard rules`)
    }
    const server = `https://${withNode ? NODE.gateway : '127.0.0.1'}:${ports.apiserver}`
    const kubeconfigPath = join(dir, 'kubeconfig')
    await startAndWait(components, 'etcd', etcdArgs(dir, ports), spawnOpts,
      async () => (await get(`http://127.0.0.1:${ports.etcdClient}/health`)).status === 200, 30_000)
    step('etcd healthy')
    await startAndWait(components, 'kube-apiserver', apiserverArgs(dir, ports, creds, withNode ? NODE.gateway : undefined), spawnOpts,
      async () => (await get(`${server}/readyz`, { token: creds.token })).status === 200, 90_000)
    step('kube-apiserver ready')
    await writeKubeconfig(kubeconfigPath, server, apiserverCertFile(dir), creds.token)
    const ca = await readFile(apiserverCertFile(dir), 'utf8')
    await startAndWait(components, 'kube-controller-manager', controllerManagerArgs(dir, kubeconfigPath, creds, withNode ? { clusterCidr: NODE.clusterCidr } : undefined), spawnOpts,
      async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, { token: creds.token, ca })).status === 200, 90_000)
    step('kube-controller-manager running; default ServiceAccount present')
    if (node !== undefined) {
      const state = node
      await startNode({ state, kubeconfigPath, server, token: creds.token, ca, detached, log })
      if (!detached) for (const { pid } of state.pids) orphans.add(pid)
    }
    return makeCluster({ dir, owned, kubeconfigPath, server, version, components, node })
  } catch (err) {
    // The directory stays, with the logs the error points to.
    if (node !== undefined) await stopNode(node, log).catch((e: unknown) => { log(`[node] ${(e as Error).message}`) })
    await stopAll(components.map((c) => c.pid))
    throw err
  }
}

/** The Cluster's view of a started node. */
function nodeOf (state: NodeState): ClusterNode {
  const registryCa = registryTlsFiles(state.dir).ca
  return { name: NODE.name, address: NODE.gateway, state, registry: NODE_REGISTRY, registryCa }
}

function makeCluster (c: { dir: string, owned: boolean, kubeconfigPath: string, server: string, version: string, components: Component[], node: NodeState | undefined }): Cluster {
  const pids = c.components.map((component) => component.pid)
  const state = c.node
  let stopping: Promise<void> | undefined
  return {
    dir: c.dir,
    kubeconfigPath: c.kubeconfigPath,
    server: c.server,
    version: c.version,
    pids,
    kubectl: (args, opts) => runKubectl(binaryPath('kubectl'), c.kubeconfigPath, args, opts),
    // With a node, helm trusts its registry's CA as a Go program trusts any: SSL_CERT_FILE.
    helm: (args, opts) => runHelm(c.kubeconfigPath, args, opts,
      state === undefined ? {} : { SSL_CERT_FILE: registryTlsFiles(state.dir).ca }),
    ...(state === undefined ? {} : { node: nodeOf(state) }),
    stop () {
      stopping ??= (async () => {
        try {
          if (state !== undefined) {
            await stopNode(state)
            for (const { pid } of state.pids) orphans.delete(pid)
          }
        } finally {
          await stopAll(pids)
        }
        if (c.owned) await removeDir(c.dir)
      })()
      return stopping
    }
  }
}
