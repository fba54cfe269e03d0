/**
 * The cluster DNS, its answers: the smallest resolver that makes `http://SVC.NS.svc` work from Pods.
 * It serves only the cluster domain, from the Services the API server has (a ClusterIP Service's
 * name → its ClusterIP), and answers NXDOMAIN for every other name: Pods reach nothing outside the
 * machine, so there is nothing to forward to. A Pod's resolv.conf (search NS.svc.cluster.local
 * svc.cluster.local cluster.local, ndots 5) turns `SVC.NS.svc` into `SVC.NS.svc.cluster.local`
 * after two NXDOMAINs, as with CoreDNS. Pure: dns-server.ts does the sockets and the watch.
 */
import dnsPacket from 'dns-packet'
import type { Answer, Packet } from 'dns-packet'

const NXDOMAIN = 3
const SERVFAIL = 2
const TTL_SECONDS = 5

/** `svc.ns.svc.cluster.local` → the Service's ClusterIPs (IPv4). */
export type ServiceTable = ReadonlyMap<string, readonly string[]>

/** The table key of a Service. */
export function serviceName (name: string, namespace: string, domain: string): string {
  return `${name}.${namespace}.svc.${domain}`.toLowerCase()
}

/** The answer to one query packet, as a packet. */
export function answerQuery (query: Packet, services: ServiceTable): Packet {
  const question = query.questions?.[0]
  const reply = (rcode: number, answers: Answer[] = []): Packet => ({
    type: 'response',
    id: query.id ?? 0,
    // authoritative, recursion desired echoed back, and the response code in the low bits
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode,
    questions: query.questions ?? [],
    answers
  })
  if (question === undefined) return reply(SERVFAIL)
  const addresses = services.get(question.name.toLowerCase().replace(/\.$/, ''))
  if (addresses === undefined) return reply(NXDOMAIN)
  // The name exists: an A query gets its addresses, any other type an empty answer (NODATA), not NXDOMAIN.
  if (question.type !== 'A') return reply(0)
  return reply(0, addresses.map(address => ({ type: 'A', name: question.name, ttl: TTL_SECONDS, class: 'IN', data: address })))
}

/** Decodes a UDP query and encodes the answer; a packet that does not decode gets no answer. */
export function answerBytes (bytes: Buffer, services: ServiceTable): Buffer | undefined {
  let query: Packet
  try {
    query = dnsPacket.decode(bytes)
  } catch {
    return undefined
  }
  return dnsPacket.encode(answerQuery(query, services))
}
