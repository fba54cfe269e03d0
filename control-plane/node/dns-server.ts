/**
 * The cluster DNS server, a process of the node: answers on UDP ADDRESS:53 from the Services the
 * API server has, which a watch keeps current (dns.ts has the answers).
 *
 *   node --import tsx control-plane/node/dns-server.ts --listen 10.88.0.1 --kubeconfig FILE [--domain cluster.local]
 */
import { createSocket } from 'node:dgram'
import { parseArgs } from 'node:util'
import { CoreV1Api, KubeConfig, makeInformer, type V1Service } from '@kubernetes/client-node'
import { answerBytes, serviceName } from './dns.js'

const { values } = parseArgs({ options: { listen: { type: 'string' }, kubeconfig: { type: 'string' }, domain: { type: 'string', default: 'cluster.local' }, port: { type: 'string', default: '53' } } })
if (values.listen === undefined || values.kubeconfig === undefined) {
  console.error('usage: dns-server.ts --listen ADDRESS --kubeconfig FILE [--domain cluster.local] [--port 53]')
  process.exit(2)
}
const domain = values.domain
const log = (msg: string): void => { console.log(`${new Date().toISOString()} ${msg}`) }

const kubeConfig = new KubeConfig()
kubeConfig.loadFromFile(values.kubeconfig)
const api = kubeConfig.makeApiClient(CoreV1Api)
const services = new Map<string, string[]>()
const keyOf = (svc: V1Service): string => serviceName(svc.metadata?.name ?? '', svc.metadata?.namespace ?? '', domain)
const put = (svc: V1Service): void => {
  const ips = (svc.spec?.clusterIPs ?? [svc.spec?.clusterIP]).filter((ip): ip is string => ip !== undefined && ip !== 'None' && !ip.includes(':'))
  if (ips.length > 0) services.set(keyOf(svc), ips)
  else services.delete(keyOf(svc))
}
const informer = makeInformer(kubeConfig, '/api/v1/services', () => api.listServiceForAllNamespaces())
informer.on('add', put)
informer.on('update', put)
informer.on('delete', svc => { services.delete(keyOf(svc)) })
// An unhandled error stops the watch for good: restart it.
informer.on('error', (err: unknown) => {
  log(`watch of Services failed (${String(err)}); restarting in 1 s`)
  setTimeout(() => { void informer.start().catch(() => undefined) }, 1000)
})

const socket = createSocket('udp4')
socket.on('message', (message, peer) => {
  const reply = answerBytes(message, services)
  if (reply !== undefined) socket.send(reply, peer.port, peer.address)
})
await informer.start()
socket.bind(Number(values.port), values.listen, () => { log(`cluster DNS for ${domain} on ${values.listen}:${values.port}, ${services.size} Service(s) known`) })
process.on('SIGTERM', () => { socket.close(); void informer.stop(); process.exit(0) })
