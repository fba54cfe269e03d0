/**
 * A node's addresses and configuration files, as pure functions of its directory: containerd's
 * config, the kubelet's and kube-proxy's configuration, the CNI network and the guard rules.
 * Every address is one the project makes itself: the Pod bridge `lameduck0` and its gateway
 * 10.88.0.1, which is also the node's address, the API server's Pod-facing address and the cluster
 * DNS server's. Nothing uses the machine's own interfaces (NODE-NOTES.md, trap 7).
 */
import { join } from 'node:path'
import { registryHostsDir } from './registry-hosts.js'

/** The node's fixed addresses and names. One node per machine: these never vary. */
export const NODE = Object.freeze({
  name: 'lameduck-node',
  bridge: 'lameduck0',
  /** The bridge's own address: node IP, API server and DNS server for Pods. */
  gateway: '10.88.0.1',
  podSubnet: '10.88.0.0/24',
  clusterCidr: '10.88.0.0/16',
  serviceCidr: '10.0.0.0/24',
  clusterDomain: 'cluster.local',
  /** containerd's sandbox image, pulled from the node's registry like every other image. */
  pauseImage: 'registry.k8s.io/pause:3.10',
  /** The nftables table of the guard rules; kube-proxy's are `ip kube-proxy` and `ip6 kube-proxy`. */
  guardTable: 'lameduck_guard',
  /** The node's loopback ports; fixed by the kubelet's and kube-proxy's defaults. */
  kubeletPort: 10250,
  kubeletHealthzPort: 10248,
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249
})

/** Where a node's files live, under its directory. */
export function nodePaths (dir: string): Record<'containerdConfig' | 'containerdSocket' | 'kubeletConfig' | 'kubeletRoot' | 'proxyConfig' | 'cniConfDir' | 'resolvConf' | 'podLogs', string> {
  return {
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletRoot: join(dir, 'kubelet'),
    proxyConfig: join(dir, 'kube-proxy.yaml'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    resolvConf: join(dir, 'resolv.conf'),
    podLogs: join(dir, 'pod-logs')
  }
}

/**
 * containerd 1.6 (Debian's; config version 2) with its own root, state, sockets and runc root, CRI
 * on, cgroupfs, Debian's CNI plugins, images pulled from the node's registry (registry-hosts.ts).
 * restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, and
 * the pause container's negative oom_score_adj would make runc fail (NODE-NOTES.md, trap 1).
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
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${registryHostsDir(dir)}"
`
}

/** The Pod network: Debian's bridge plugin on the bridge the node made, host-local IPAM in the node's directory. */
export function cniConfig (dir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'lameduck',
    plugins: [{
      type: 'bridge',
      bridge: NODE.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: NODE.podSubnet, gateway: NODE.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'cni', 'ipam') }
    }]
  }, null, 2) + '\n'
}

/**
 * The kubelet's configuration (YAML is a superset of JSON). Traps of NODE-NOTES.md: a cgroup v1
 * host needs failCgroupV1: false; oomScoreAdj 0 (no CAP_SYS_RESOURCE); makeIPTablesUtilChains false
 * (else KUBE-FIREWALL chains stay behind); pod logs in the node's directory. It listens on the
 * bridge's address, which the API server dials for logs (--kubelet-preferred-address-types=InternalIP);
 * the guard rules keep Pods away from it.
 */
export function kubeletConfig (dir: string): string {
  const p = nodePaths(dir)
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    failSwapOn: false,
    address: NODE.gateway,
    port: NODE.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: NODE.kubeletHealthzPort,
    // The API server has no kubelet client certificate; the guard rules keep Pods off this port.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    resolvConf: p.resolvConf,
    clusterDNS: [NODE.gateway],
    clusterDomain: NODE.clusterDomain,
    staticPodPath: '',
    syncFrequency: '10s',
    fileCheckFrequency: '20s',
    nodeStatusUpdateFrequency: '5s',
    serializeImagePulls: false,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    shutdownGracePeriod: '0s',
    oomScoreAdj: 0,
    podLogsDir: p.podLogs,
    // It still sets a few kernel tunables (vm.overcommit_memory, kernel.panic, …): the node puts
    // back what they were on stop (system.ts, KUBELET_SYSCTLS).
    makeIPTablesUtilChains: false
  }, null, 2) + '\n'
}

/** kube-proxy in nftables mode: everything in its own tables, no sysctl or conntrack changes. */
export function kubeProxyConfig (kubeconfigPath: string): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath },
    mode: 'nftables',
    clusterCIDR: NODE.clusterCidr,
    healthzBindAddress: `127.0.0.1:${NODE.proxyHealthzPort}`,
    metricsBindAddress: `127.0.0.1:${NODE.proxyMetricsPort}`,
    nodePortAddresses: [`${NODE.gateway}/32`],
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' }
  }, null, 2) + '\n'
}

/**
 * The guard rules, in a table of the node's own (removed whole on stop): nothing from the Pod
 * bridge is forwarded off it or reaches the host beyond the gateway address, Pods cannot reach the
 * kubelet's or kube-proxy's ports, and traffic to a Service or Pod address never leaves through
 * another interface (a ClusterIP with no endpoints would otherwise follow the default route).
 */
export function guardRules (): string {
  const { bridge, gateway, guardTable, serviceCidr, clusterCidr } = NODE
  const nodePorts = [NODE.kubeletPort, NODE.kubeletHealthzPort, NODE.proxyHealthzPort, NODE.proxyMetricsPort].join(', ')
  return `table inet ${guardTable} {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${bridge}" oifname != "${bridge}" drop
    oifname "${bridge}" iifname != "${bridge}" drop
  }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "${bridge}" ip daddr != ${gateway} drop
    iifname "${bridge}" tcp dport { ${nodePorts} } drop
    iifname "${bridge}" meta nfproto ipv6 drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr { ${serviceCidr}, ${clusterCidr} } oifname != { "lo", "${bridge}" } drop
  }
}
`
}
