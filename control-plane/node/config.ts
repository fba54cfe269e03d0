/**
 * The nodes' addresses and containerd's configuration, as pure functions of a node's spec and
 * directory: containerd's config and the CNI template (the kubelet's and kube-proxy's are in
 * agents.ts, the nftables rules in rules.ts). Every address is one the project makes itself, so that
 * no packet leaves loopback or the project's own bridge and namespaces: the bridge `lameduck0` with
 * the machine's address 10.88.0.1 (the API server, the cluster DNS), one address per node on that
 * bridge (10.88.0.11 upward, each in the node's own network namespace), and the Pod CIDRs the
 * controller manager gives the nodes out of 10.88.128.0/17.
 */
import { join } from 'node:path'
import { registryHostsDir } from './registry-hosts.js'

/** What every node shares: the machine's bridge and addresses, and the ports each node has in its namespace. */
export const NODE = Object.freeze({
  /** The first node's name; the next ones are `lameduck-node-2`, `lameduck-node-3`, … */
  name: 'lameduck-node',
  bridge: 'lameduck0',
  /** The machine's address on the bridge: the API server's, the DNS server's, the nodes' default route. */
  gateway: '10.88.0.1',
  /** The bridge's network: the machine and the nodes. Outside the cluster CIDR, so kube-proxy masquerades it. */
  machineCidr: '10.88.0.0/24',
  /** The first node's address; node i has .(10 + i). */
  firstNodeHost: 11,
  /** The most nodes one cluster may have had, lost ones included (addresses .11 to .50). */
  maxNodes: 40,
  /** Pod CIDRs, a /24 per node (node-ipam-controller). */
  clusterCidr: '10.88.128.0/17',
  serviceCidr: '10.0.0.0/24',
  clusterDomain: 'cluster.local',
  /** Each node's Pod bridge, inside its own network namespace. */
  podBridge: 'cni0',
  /** containerd's sandbox image, pulled from the machine's registry like every other image. */
  pauseImage: 'registry.k8s.io/pause:3.10',
  /** The nftables table of the machine's guard rules; kube-proxy's are `ip kube-proxy` and `ip6 kube-proxy`. */
  guardTable: 'lameduck_guard',
  /** The ports of each node, the kubelet's and kube-proxy's defaults: every node has them in its own namespace. */
  kubeletPort: 10250,
  kubeletHealthzPort: 10248,
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249
})

/** One node: its name, address, network namespace, the host's end of its link, its cgroup root. */
export interface NodeSpec {
  readonly index: number
  readonly name: string
  readonly address: string
  /** The network namespace (`/run/netns/NAME`), named as the node. */
  readonly netns: string
  /** The machine's end of the node's veth, on the bridge; the node's end is `eth0`. */
  readonly veth: string
  /** The kubelet's cgroupRoot: each node's Pods under their own `/lameduck-node…/kubepods`. */
  readonly cgroupRoot: string
}

/** Node number `index` (1, 2, …). */
export function nodeSpec (index: number): NodeSpec {
  if (!Number.isInteger(index) || index < 1 || index > NODE.maxNodes) {
    throw new Error(`node index ${index} is not from 1 to ${NODE.maxNodes}`)
  }
  const name = index === 1 ? NODE.name : `${NODE.name}-${index}`
  const address = `10.88.0.${NODE.firstNodeHost - 1 + index}`
  return { index, name, address, netns: name, veth: `lameduck-n${index}`, cgroupRoot: `/${name}` }
}

type NodePath = 'containerdConfig' | 'containerdSocket' | 'kubeletConfig' | 'kubeletRoot' | 'proxyConfig' |
  'cniConfDir' | 'cniTemplate' | 'resolvConf' | 'podLogs'

/** Where a node's files live, under its directory. */
export function nodePaths (dir: string): Record<NodePath, string> {
  return {
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletRoot: join(dir, 'kubelet'),
    proxyConfig: join(dir, 'kube-proxy.yaml'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniTemplate: join(dir, 'cni', 'template.json'),
    resolvConf: join(dir, 'resolv.conf'),
    podLogs: join(dir, 'pod-logs')
  }
}

/**
 * containerd 1.6 (Debian's; config version 2) with its own root, state, sockets and runc root, CRI
 * on, cgroupfs, Debian's CNI plugins, images pulled from the machine's registry (registry-hosts.ts).
 * restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, and
 * the pause container's negative oom_score_adj would make runc fail ("can't get final child's PID
 * from pipe: EOF"). The CNI
 * network is written from `conf_template` once the kubelet passes on the Pod CIDR the controller
 * manager gave the node.
 */
export function containerdConfig (dir: string): string {
  const p = nodePaths(dir)
  return `# Written by control-plane/node/config.ts
version = 2
root = "${join(dir, 'containerd', 'root')}"
state = "${join(dir, 'containerd', 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${p.containerdSocket}"
[ttrpc]
  address = "${p.containerdSocket}.ttrpc"
[debug]
  address = "${join(dir, 'containerd', 'debug.sock')}"
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${NODE.pauseImage}"
    enable_cdi = false
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "${join(dir, 'runc')}"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "${p.cniConfDir}"
      conf_template = "${p.cniTemplate}"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${registryHostsDir(dir)}"
`
}

/**
 * The Pod network, as a template containerd fills in with the node's Pod CIDR: Debian's bridge plugin
 * on the node's own bridge (in its namespace; the gateway is the CIDR's first address), host-local
 * IPAM in the node's directory.
 */
export function cniTemplate (dir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'lameduck',
    plugins: [{
      type: 'bridge',
      bridge: NODE.podBridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: '{{.PodCIDR}}' }]],
        routes: [{ dst: '0.0.0.0/0' }],
        dataDir: join(dir, 'cni', 'ipam')
      }
    }]
  }, null, 2) + '\n'
}

/**
 * How fast the control plane gives up on a node that stopped answering: `graceSeconds` is the
 * controller manager's --node-monitor-grace-period (Kubernetes' default 50 s), `tolerationSeconds`
 * the API server's default tolerations of the not-ready and unreachable taints (default 300 s).
 */
export interface NodeLifecycle { readonly graceSeconds: number, readonly tolerationSeconds: number }
