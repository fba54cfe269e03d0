import t from 'tap'
import { KubeApiError } from '../../../src/kube/client.js'
import { explain, NOWHERE, statusMessage, statusOf } from '../../../src/kube/errors.js'

const answered = (code: number, body: string): KubeApiError => new KubeApiError(code, body, 'GET /x')

t.test('an answer: credentials, permissions, other codes, with the Status message or the first line', async t => {
  t.equal(explain(answered(401, ''), 'reading x', 'https://s').message, 'reading x: the API server did not accept the credentials (401)')
  t.equal(explain(answered(403, '{"kind":"Status","message":"forbidden here"}'), 'reading x', 'https://s').message, 'reading x: forbidden (403): forbidden here')
  t.equal(explain(answered(500, 'upstream broke\nmore'), 'reading x', 'https://s').message, 'reading x: the API server answered 500: upstream broke')
  t.equal(explain(answered(502, '{"kind":"Status"}'), 'reading x', 'https://s').message, 'reading x: the API server answered 502: {"kind":"Status"}')
  t.equal(statusMessage('  '), undefined)
  t.equal(statusOf(answered(404, '')), 404)
  t.equal(statusOf(new Error('x')), undefined)
})

t.test('the network: the server named, its reason once, a hint when there was no kubeconfig', async t => {
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:1')
  t.equal(explain(refused, 'reading x', NOWHERE).message, 'reading x: cannot reach the API server at http://localhost:8080 (no kubeconfig found: give --kubeconfig, or set KUBECONFIG): connect ECONNREFUSED 127.0.0.1:1')
  t.equal(explain(new Error('request failed', { cause: refused }), 'reading x', 'https://s').message, 'reading x: cannot reach the API server at https://s: request failed: connect ECONNREFUSED 127.0.0.1:1')
  t.equal(explain(new Error('request failed: connect ECONNREFUSED 127.0.0.1:1', { cause: refused }), 'reading x', 'https://s').message, 'reading x: cannot reach the API server at https://s: request failed: connect ECONNREFUSED 127.0.0.1:1', 'said once')
})
