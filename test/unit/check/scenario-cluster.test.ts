// The Eviction API call of `lameduck check --scenario evict` against a loopback server that answers as
// the API server does: 201 evicted, 429 refused by a PodDisruptionBudget, 404 gone, anything else a failure.
import t from 'tap'
import { connectScenarioCluster } from '../../../src/check/scenario-cluster.js'
import { failure as status, fakeApiServer, writeKubeconfig as kubeconfig } from '../../helpers/api-server.js'

t.test('an eviction is a POST of a policy/v1 Eviction; 429 and 404 are answers', async t => {
  const { url, requests } = await fakeApiServer(t, ({ url }) => {
    if (url.includes('/blocked/')) return status(429, 'Cannot evict pod as it would violate the pod\'s disruption budget.')
    if (url.includes('/gone/')) return status(404, 'pods "gone" not found')
    if (url.includes('/broken/')) return status(403, 'pods "broken" is forbidden: User cannot create resource "pods/eviction"')
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } }
  })
  const cluster = connectScenarioCluster(await kubeconfig(t, url))
  t.equal(cluster.server, url, 'and every call of cluster.ts')
  t.equal(await cluster.evictPod('shop', 'web-1'), 'evicted')
  t.equal(await cluster.evictPod('shop', 'blocked'), 'blocked')
  t.equal(await cluster.evictPod('shop', 'gone'), 'gone')
  await t.rejects(cluster.evictPod('shop', 'broken'), { message: /^evicting Pod shop\/broken: forbidden \(403\): pods "broken" is forbidden/ })
  t.equal(`${requests[0]!.method} ${requests[0]!.url}`, 'POST /api/v1/namespaces/shop/pods/web-1/eviction')
  t.same(requests[0]!.body, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { namespace: 'shop', name: 'web-1' } })
})
