import t from 'tap'
import { parseReference, registryReference } from '../../../../control-plane/images/reference.js'

t.test('references split as containerd resolves them', async t => {
  t.same(parseReference('nginx:1.22'), { host: 'docker.io', path: 'library/nginx', tag: '1.22' })
  t.same(parseReference('lameduck'), { host: 'docker.io', path: 'library/lameduck', tag: 'latest' })
  t.same(parseReference('someone/app:2'), { host: 'docker.io', path: 'someone/app', tag: '2' })
  const agnhost = { host: 'registry.k8s.io', path: 'e2e-test-images/agnhost', tag: '2.53' }
  t.same(parseReference('registry.k8s.io/e2e-test-images/agnhost:2.53'), agnhost)
  t.same(parseReference('10.88.0.1:5000/lameduck:0.1.0'), { host: '10.88.0.1:5000', path: 'lameduck', tag: '0.1.0' })
  t.same(parseReference('localhost/lameduck'), { host: 'localhost', path: 'lameduck', tag: 'latest' })
  t.throws(() => parseReference('lameduck@sha256:abc'), /by digest/)
  t.throws(() => parseReference('lameduck:'), /not an image reference/)
})

t.test('in the node\'s registry, every host\'s image keeps its path', async t => {
  const registry = '10.88.0.1:5000'
  t.equal(registryReference('nginx:1.22', registry), '10.88.0.1:5000/library/nginx:1.22')
  t.equal(registryReference('registry.k8s.io/pause:3.10', registry), '10.88.0.1:5000/pause:3.10')
  t.equal(registryReference('10.88.0.1:5000/lameduck:0.1.0', registry), '10.88.0.1:5000/lameduck:0.1.0')
})
