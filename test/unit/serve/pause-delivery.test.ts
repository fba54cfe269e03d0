import t from 'tap'
import { decidePauseDelivery } from '../../../src/serve/pause-delivery.js'

const node = (kubelet: string, runtime: string) => ({ kubelet, runtime })

t.test('an image volume only when the API server and every node have them', async t => {
  const cases: Array<[string, string, Parameters<typeof decidePauseDelivery>[1], string, RegExp]> = [
    ['1.36, containerd 2.1 and CRI-O 1.31', '1.36', [node('v1.36.0', 'containerd://2.1.0'), node('v1.35.1', 'cri-o://1.31.0')], 'image-volume', /all 2 node\(s\) have image volumes/],
    ['containerd 2.2', '1.35', [node('v1.35.0', 'containerd://2.2.1')], 'image-volume', /image-volume/],
    ['an API server of 1.34', '1.34', [node('v1.36.0', 'containerd://2.1.0')], 'init-container', /API server \(1\.34\) is older than 1\.35/],
    ['an unreadable server version', 'unknown', [node('v1.36.0', 'containerd://2.1.0')], 'init-container', /older than 1\.35 or unknown/],
    ['nodes not listed', '1.36', undefined, 'init-container', /no node's kubelet and runtime could be read/],
    ['no node has reported yet', '1.36', [node('', '')], 'init-container', /could be read/],
    ['containerd 2.0', '1.36', [node('v1.36.0', 'containerd://2.0.5')], 'init-container', /v1\.36\.0 containerd:\/\/2\.0\.5/],
    ['containerd 1.7', '1.36', [node('v1.36.0', 'containerd://1.7.27')], 'init-container', /1 node\(s\)/],
    ['CRI-O 1.30', '1.36', [node('v1.36.0', 'cri-o://1.30.4')], 'init-container', /cri-o/],
    ['a kubelet of 1.34', '1.36', [node('v1.34.2', 'containerd://2.1.0')], 'init-container', /v1\.34\.2/],
    ['a runtime unknown here', '1.36', [node('v1.36.0', 'docker://28.2.2')], 'init-container', /docker/],
    ['a runtime without a version', '1.36', [node('v1.36.0', 'containerd')], 'init-container', /containerd$/]
  ]
  for (const [name, server, nodes, delivery, why] of cases) {
    const decision = decidePauseDelivery(server, nodes)
    t.equal(decision.delivery, delivery, name)
    t.match(decision.describe, why, name)
  }
  const many = decidePauseDelivery('1.36', Array.from({ length: 5 }, (_, i) => node(`v1.3${i}.0`, 'containerd://1.6.0')))
  t.match(many.describe, /^init-container: 5 node\(s\) .*: v1\.30\.0 containerd:\/\/1\.6\.0, v1\.31\.0 containerd:\/\/1\.6\.0, v1\.32\.0 containerd:\/\/1\.6\.0$/, 'three shown')
})
