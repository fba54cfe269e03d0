// A real node next to the local control plane, as `startCluster({ node: true })` gives it: Pods run
// on a real kubelet through containerd, runc and the CNI bridge; a Service answers through
// kube-proxy's ClusterIP, by its cluster DNS name, from a Pod; a Pod reaches the API server as an
// in-cluster client with its ServiceAccount; the guard rules keep Pods off the node's own ports.
// Last, stopping it leaves the machine exactly as it was. One node per machine: the node tests run
// one file at a time (npm run test:node), and this file shares one node across its cases.
import t from 'tap'
import { NODE } from '../../control-plane/node/config.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { kubectl, until } from '../helpers/e2e.js'
import { snapshotMachine } from '../helpers/machine.js'
import { nodeClusterFor, runOnce } from '../helpers/node.js'

const before = await snapshotMachine()
const cluster = await nodeClusterFor(t, 600_000)
const node = cluster.node!

const web = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: AGNHOST_IMAGE, imagePullPolicy: 'Never', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] }
    }
  }
}
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }

t.test('a Deployment runs on the node: Ready Pods with addresses on the Pod bridge, in the Service\'s EndpointSlice', async t => {
  t.equal(cluster.server, `https://${NODE.gateway}:${new URL(cluster.server).port}`, 'the API server listens on the bridge\'s gateway')
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [web, service] }))
  await kubectl(cluster, ['rollout', 'status', 'deployment/web', '--timeout=120s'])
  const pods = JSON.parse((await kubectl(cluster, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout) as { items: Array<{ spec: { nodeName: string }, status: { podIP: string } }> }
  t.equal(pods.items.length, 2)
  for (const pod of pods.items) {
    t.equal(pod.spec.nodeName, node.name, 'scheduled on the node')
    t.match(pod.status.podIP, /^10\.88\.0\.\d+$/, 'an address on the Pod bridge')
  }
  const addresses = await until('both Pods in the EndpointSlice', async () => {
    const { stdout } = await kubectl(cluster, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]}'])
    return stdout.split(' ').filter(Boolean).length === 2 ? stdout : undefined
  })
  t.same(addresses.split(' ').sort(), pods.items.map(p => p.status.podIP).sort())
})

t.test('from a Pod: the Service by its DNS name through the ClusterIP, and the API server with the Pod\'s ServiceAccount', async t => {
  const script = `
    const web = await (await fetch('http://web.default.svc/hostname')).text()
    const ca = (await import('node:fs')).readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', 'utf8')
    const token = (await import('node:fs')).readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8')
    const https = await import('node:https')
    const version = await new Promise((resolve, reject) => https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: '/version', ca, servername: 'kubernetes.default.svc', headers: { authorization: 'Bearer ' + token } }, res => { let b = ''; res.on('data', c => { b += c }); res.on('end', () => resolve(res.statusCode + ' ' + b)) }).on('error', reject))
    let kubelet = 'reached'
    try { await fetch('https://${NODE.gateway}:${NODE.kubeletPort}/healthz', { signal: AbortSignal.timeout(2000) }) } catch (err) { kubelet = String(err.cause?.code ?? err.name) }
    console.log(JSON.stringify({ web, version, kubelet }))`
  const { phase, log } = await runOnce(cluster, 'default', 'probe', 'lameduck:0.1.0', ['node', '--input-type=module', '-e', script])
  t.equal(phase, 'Succeeded', log)
  const result = JSON.parse(log.trim().split('\n').pop()!) as { web: string, version: string, kubelet: string }
  t.match(result.web, /^web-/, 'a web Pod answered with its name')
  t.match(result.version, /^200 .*"gitVersion": ?"v1\.\d+\.\d+"/s, 'the API server answered the in-cluster client')
  t.not(result.kubelet, 'reached', `the kubelet's port is closed to Pods (${result.kubelet})`)
})

t.test('stopping the cluster leaves the machine as it was', async t => {
  await cluster.stop()
  const after = await snapshotMachine([cluster.dir])
  const { processes, mounts, netns, links, nftRuleset, iptables, cgroups, sysctls, paths } = before
  t.same(after.processes, processes, 'no process of the node')
  t.same(after.mounts, mounts, 'no mount')
  t.same(after.netns, netns, 'no network namespace')
  t.same(after.links, links, 'no link (bridge, veth)')
  t.equal(after.nftRuleset, nftRuleset, 'the same nftables ruleset')
  t.same(after.iptables, iptables, 'the same iptables rules')
  t.same(after.cgroups, cgroups, 'no kubepods cgroup')
  t.same(after.sysctls, sysctls, 'the same kernel settings (ip_forward and the kubelet\'s)')
  t.same(after.paths, paths, 'nothing written outside the node\'s directory')
})
