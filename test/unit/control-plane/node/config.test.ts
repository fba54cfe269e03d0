import t from 'tap'
import { kubeletConfig, kubeProxyConfig } from '../../../../control-plane/node/agents.js'
import { cniTemplate, containerdConfig, NODE, nodePaths, nodeSpec } from '../../../../control-plane/node/config.js'
import { guardRules, lostNodeRules, nodeGuardRules } from '../../../../control-plane/node/rules.js'

const dir = '/tmp/cluster/node'

t.test('nodes are numbered: the first keeps the plain name; addresses, namespaces, links and cgroup roots follow the number', async t => {
  t.same(nodeSpec(1), {
    index: 1, name: 'lameduck-node', address: '10.88.0.11', netns: 'lameduck-node', veth: 'lameduck-n1',
    cgroupRoot: '/lameduck-node'
  })
  t.same(nodeSpec(2), {
    index: 2, name: 'lameduck-node-2', address: '10.88.0.12', netns: 'lameduck-node-2', veth: 'lameduck-n2',
    cgroupRoot: '/lameduck-node-2'
  })
  t.equal(nodeSpec(NODE.maxNodes).address, '10.88.0.50')
  t.ok(nodeSpec(NODE.maxNodes).veth.length <= 15, 'a link name fits the kernel\'s 15 characters')
  for (const bad of [0, NODE.maxNodes + 1, 1.5]) {
    t.throws(() => nodeSpec(bad), { message: `node index ${bad} is not from 1 to ${NODE.maxNodes}` })
  }
})

t.test('containerd: its own socket, root and state; no negative oom_score_adj; the pause image never pulled; CNI from a template', async t => {
  const toml = containerdConfig(dir)
  t.match(toml, `address = "${nodePaths(dir).containerdSocket}"`)
  t.match(toml, 'root = "/tmp/cluster/node/containerd/root"')
  t.match(toml, 'restrict_oom_score_adj = true')
  t.match(toml, `sandbox_image = "${NODE.pauseImage}"`)
  t.match(toml, `conf_template = "${nodePaths(dir).cniTemplate}"`)
  t.notMatch(toml.replaceAll(dir, ''), /"\/(var|run|etc)\//, 'nothing outside the node\'s directory but the CNI plugins')
})

t.test('the kubelet: the traps of a cgroup v1 host without CAP_SYS_RESOURCE, on the node\'s address, under its own cgroup root', async t => {
  const config = JSON.parse(kubeletConfig(dir, nodeSpec(2))) as Record<string, unknown>
  t.match(config, { failCgroupV1: false, oomScoreAdj: 0, makeIPTablesUtilChains: false, cgroupDriver: 'cgroupfs' })
  t.match(config, { address: '10.88.0.12', clusterDNS: [NODE.gateway], cgroupRoot: '/lameduck-node-2' })
  t.equal(config.podLogsDir, `${dir}/pod-logs`)
  t.notOk('nodeLeaseDurationSeconds' in config, 'Kubernetes\' Lease without a lifecycle')
  const lifecycle = { graceSeconds: 12, tolerationSeconds: 5 }
  const fast = JSON.parse(kubeletConfig(dir, nodeSpec(1), lifecycle)) as Record<string, unknown>
  t.equal(fast.nodeLeaseDurationSeconds, 12, 'a Lease renewed four times within the grace period')
})

t.test('kube-proxy in nftables mode, NodePorts only on its own address; a node\'s health port where the machine can ask', async t => {
  const config = JSON.parse(kubeProxyConfig('/k', '10.88.0.12')) as unknown
  t.match(config, { mode: 'nftables', clientConnection: { kubeconfig: '/k' }, clusterCIDR: NODE.clusterCidr })
  t.match(config, { bindAddress: '10.88.0.12', nodePortAddresses: ['10.88.0.12/32'] })
  t.match(config, { healthzBindAddress: '10.88.0.12:10256' }, 'the health port where the machine can ask')
})

t.test('the CNI bridge is the node\'s own, its subnet the Pod CIDR containerd fills in', async t => {
  const ipam = { ranges: [[{ subnet: '{{.PodCIDR}}' }]], dataDir: `${dir}/cni/ipam` }
  const bridge = { type: 'bridge', bridge: NODE.podBridge, isGateway: true, ipMasq: false, ipam }
  t.match(JSON.parse(cniTemplate(dir)), { plugins: [bridge] })
})

t.test('the guard rules keep Pods on the bridge and Service addresses off other interfaces', async t => {
  const rules = guardRules()
  t.match(rules, `table inet ${NODE.guardTable} {`)
  t.match(rules, 'iifname "lameduck0" oifname != "lameduck0" drop')
  t.match(rules, 'iifname "lameduck0" ip daddr != 10.88.0.1 drop')
  t.match(rules, 'tcp dport { 10250, 10248, 10256, 10249 } drop')
  t.match(rules, 'ip daddr { 10.0.0.0/24, 10.88.128.0/17 } oifname != { "lo", "lameduck0" } drop')
})

t.test('inside a node, no Pod reaches its ports; a lost node drops everything first', async t => {
  t.match(nodeGuardRules(), 'ip saddr 10.88.128.0/17 tcp dport { 10250, 10248, 10256, 10249 } drop')
  const lost = lostNodeRules()
  t.match(lost, /hook prerouting priority -500; policy drop;/)
  t.match(lost, /hook output priority -500; policy drop;/)
})
