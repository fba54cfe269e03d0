import t from 'tap'
import dnsPacket from 'dns-packet'
import { answerBytes, answerQuery, serviceName } from '../../../../control-plane/node/dns.js'

const services = new Map([[serviceName('Web', 'shop', 'cluster.local'), ['10.0.0.12']]])
const query = (name: string, type: 'A' | 'AAAA' = 'A'): Buffer => dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] })
type Decoded = dnsPacket.DecodedPacket & { rcode: string }
const decode = (bytes: Buffer | undefined): Decoded => dnsPacket.decode(bytes!) as Decoded

t.test('a Service name gets its ClusterIP, authoritatively, whatever its case and trailing dot', async t => {
  const answer = decode(answerBytes(query('web.SHOP.svc.cluster.local.'), services))
  t.equal(answer.id, 42)
  t.equal(answer.type, 'response')
  t.equal(answer.rcode, 'NOERROR')
  t.ok(answer.flag_aa, 'authoritative')
  t.ok(answer.flag_rd, 'recursion desired, echoed')
  t.same(answer.answers?.map(a => [a.type, (a as { data: unknown }).data]), [['A', '10.0.0.12']])
})

t.test('an AAAA for a Service is an empty answer, not NXDOMAIN (the name exists)', async t => {
  const answer = decode(answerBytes(query('web.shop.svc.cluster.local', 'AAAA'), services))
  t.equal(answer.rcode, 'NOERROR')
  t.same(answer.answers, [])
})

t.test('every other name is NXDOMAIN: the search path\'s tries, and names outside the cluster', async t => {
  for (const name of ['web.shop.svc.shop.svc.cluster.local', 'example.org', 'other.shop.svc.cluster.local']) {
    t.equal(decode(answerBytes(query(name), services)).rcode, 'NXDOMAIN', name)
  }
})

t.test('a query without a question is SERVFAIL; bytes that are not DNS get no answer', async t => {
  t.equal(answerQuery({ type: 'query', id: 7 }, services).flags! & 15, 2)
  t.equal(answerQuery({ type: 'query' }, services).id, 0, 'no id: 0')
  t.equal(answerBytes(Buffer.from([1, 2, 3]), services), undefined)
})
