import t from 'tap'
import { isMeshProxy } from '../../../src/admission/mesh.js'
import { mutatePod } from '../../../src/admission/mutate.js'
import { resolveSettings } from '../../../src/admission/policy.js'
import { LIMITS, pod } from '../../helpers/pods.js'

t.test('mesh proxies are known by name or image', async t => {
  const cases: Array<[string, string | undefined, boolean]> = [
    ['istio-proxy', 'docker.io/istio/proxyv2:1.24.0', true],
    ['linkerd-proxy', 'cr.l5d.io/linkerd/proxy:stable-2.14', true],
    ['envoy', undefined, true],
    ['sidecar', 'envoyproxy/envoy:v1.31-latest', true],
    ['sidecar', 'gcr.io/istio-release/proxyv2@sha256:abc', true],
    ['web', 'nginx:1.27', false],
    ['web', undefined, false]
  ]
  for (const [name, image, expected] of cases) t.equal(isMeshProxy({ name, ...(image === undefined ? {} : { image }) }), expected, `${name} ${image ?? ''}`)
})

t.test('a proxy the containers annotation leaves out gets the same pause all the same, with a warning', async t => {
  const settings = resolveSettings({ 'lameduck.dev/containers': 'web' }, undefined, LIMITS)
  const result = mutatePod(pod([{ name: 'web' }, { name: 'istio-proxy', image: 'istio/proxyv2:1.24' }, { name: 'metrics' }]), settings, 600)
  t.same(result.containers, ['web', 'istio-proxy'])
  t.same(
    result.pod?.spec.containers.map(c => c.lifecycle?.preStop),
    [{ sleep: { seconds: 15 } }, { sleep: { seconds: 15 } }, undefined]
  )
  t.match(result.warnings, [/^container "istio-proxy": a service-mesh proxy gets the same pause as the app/])
  const again = mutatePod(result.pod!, settings, 600)
  t.same(again.pod, result.pod, 'a second pass changes nothing')
})
