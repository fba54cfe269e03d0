import t from 'tap'
import { parse } from 'yaml'
import { podView } from '../../../demo/pod-view.js'

t.test('keeps the name, annotations, grace period and lifecycles; drops the defaults', async t => {
  const pod = {
    metadata: { name: 'web', namespace: 'shop', uid: 'u', annotations: { 'lameduck.dev/injected': 'sleep=5s grace=30s' } },
    spec: {
      terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', tolerations: [{ key: 'x' }],
      containers: [{ name: 'web', image: 'app:1', imagePullPolicy: 'IfNotPresent', lifecycle: { preStop: { sleep: { seconds: 5 } } } }, { name: 'side', image: 'side:1' }]
    }
  }
  t.same(parse(podView(pod)), {
    metadata: { name: 'web', namespace: 'shop', annotations: { 'lameduck.dev/injected': 'sleep=5s grace=30s' } },
    spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'web', image: 'app:1', lifecycle: { preStop: { sleep: { seconds: 5 } } } }, { name: 'side', image: 'side:1' }] }
  })
  t.notMatch(podView(pod), /dnsPolicy|tolerations|uid|imagePullPolicy/)
})

t.test('a Pod with a generateName and hardly anything else', async t => {
  t.same(parse(podView({ metadata: { generateName: 'web-' } })), { metadata: { generateName: 'web-' }, spec: { containers: [] } })
  t.same(parse(podView({})), { metadata: {}, spec: { containers: [] } })
})
