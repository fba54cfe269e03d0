/**
 * The configuration files of a node's kubelet and kube-proxy (YAML is a superset of JSON), as pure
 * functions of its directory and spec (control-plane/README.md, "The nodes").
 */
import { NODE, nodePaths, type NodeLifecycle, type NodeSpec } from './config.js'

/**
 * The kubelet's configuration (YAML is a superset of JSON). What this machine needs: a cgroup v1
 * host needs failCgroupV1: false; oomScoreAdj 0 (no CAP_SYS_RESOURCE); makeIPTablesUtilChains false
 * (else KUBE-FIREWALL chains stay behind); pod logs in the node's directory; its own cgroup root, so
 * that nodes never share a `kubepods`. It listens on the node's address, which the API server dials
 * for logs (--kubelet-preferred-address-types=InternalIP); the node's guard rules keep Pods away from
 * it. With a short `lifecycle`, it renews its Lease four times within the grace period.
 */
export function kubeletConfig (dir: string, spec: NodeSpec, lifecycle?: NodeLifecycle): string {
  const p = nodePaths(dir)
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: spec.cgroupRoot,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    failSwapOn: false,
    address: spec.address,
    port: NODE.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: NODE.kubeletHealthzPort,
    // The API server has no kubelet client certificate; the node's guard rules keep Pods off this port.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    resolvConf: p.resolvConf,
    clusterDNS: [NODE.gateway],
    clusterDomain: NODE.clusterDomain,
    staticPodPath: '',
    syncFrequency: '10s',
    fileCheckFrequency: '20s',
    nodeStatusUpdateFrequency: '5s',
    ...(lifecycle === undefined ? {} : { nodeLeaseDurationSeconds: lifecycle.graceSeconds }),
    serializeImagePulls: false,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    evictionHard: {
      'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%'
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    shutdownGracePeriod: '0s',
    oomScoreAdj: 0,
    podLogsDir: p.podLogs,
    // It still sets a few kernel tunables (vm.overcommit_memory, kernel.panic, …): the machine puts
    // back what they were on stop (system.ts, KUBELET_SYSCTLS).
    makeIPTablesUtilChains: false
  }, null, 2) + '\n'
}

/**
 * A node's kube-proxy in nftables mode, in the node's namespace: everything in its own tables, no
 * sysctl or conntrack changes, its health port on the node's address (where the machine can ask).
 */
export function kubeProxyConfig (kubeconfigPath: string, address: string): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath },
    mode: 'nftables',
    bindAddress: address,
    clusterCIDR: NODE.clusterCidr,
    healthzBindAddress: `${address}:${NODE.proxyHealthzPort}`,
    metricsBindAddress: `127.0.0.1:${NODE.proxyMetricsPort}`,
    nodePortAddresses: [`${address}/32`],
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' }
  }, null, 2) + '\n'
}
