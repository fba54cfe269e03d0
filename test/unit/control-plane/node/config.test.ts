import t from 'tap'
import { cniConfig, containerdConfig, guardRules, kubeletConfig, kubeProxyConfig, NODE, nodePaths } from '../../../../control-plane/node/config.js'

const dir = '/tmp/cluster/node'

t.test('containerd: its own socket, root and state; no negative oom_score_adj; the pause image never pulled', async t => {
  const toml = containerdConfig(dir)
  t.match(toml, `address = "${nodePaths(dir).containerdSocket}"`)
  t.match(toml, 'root = "/tmp/cluster/node/containerd/root"')
  t.match(toml, 'restrict_oom_score_adj = true')
  t.match(toml, `sandbox_image = "${NODE.pauseImage}"`)
  t.notMatch(toml.replaceAll(dir, ''), /"\/(var|run|etc)\//, 'nothing outside the node\'s directory but the CNI plugins')
})

t.test('the kubelet: the traps of a cgroup v1 host without CAP_SYS_RESOURCE, on the bridge\'s address', async t => {
  const config = JSON.parse(kubeletConfig(dir)) as Record<string, unknown>
  t.match(config, { failCgroupV1: false, oomScoreAdj: 0, makeIPTablesUtilChains: false, address: NODE.gateway, clusterDNS: [NODE.gateway], cgroupDriver: 'cgroupfs' })
  t.equal(config.podLogsDir, `${dir}/pod-logs`)
})

t.test('kube-proxy in nftables mode, NodePorts only on the bridge\'s address', async t => {
  t.match(JSON.parse(kubeProxyConfig('/k')), { mode: 'nftables', clientConnection: { kubeconfig: '/k' }, nodePortAddresses: ['10.88.0.1/32'] })
})

t.test('the CNI bridge is the node\'s own, with the gateway address', async t => {
  t.match(JSON.parse(cniConfig(dir)), { plugins: [{ type: 'bridge', bridge: NODE.bridge, isGateway: true, ipMasq: false, ipam: { ranges: [[{ subnet: NODE.podSubnet, gateway: NODE.gateway }]] } }] })
})

t.test('the guard rules keep Pods on the bridge and Service addresses off other interfaces', async t => {
  const rules = guardRules()
  t.match(rules, `table inet ${NODE.guardTable} {`)
  t.match(rules, 'iifname "lameduck0" oifname != "lameduck0" drop')
  t.match(rules, 'iifname "lameduck0" ip daddr != 10.88.0.1 drop')
  t.match(rules, 'tcp dport { 10250, 10248, 10256, 10249 } drop')
  t.match(rules, 'ip daddr { 10.0.0.0/24, 10.88.0.0/16 } oifname != { "lo", "lameduck0" } drop')
})
