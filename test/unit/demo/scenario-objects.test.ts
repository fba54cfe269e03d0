import t from 'tap'
import { nginxPodConfig, scenarioObjects, type ScenarioObjectsInput } from '../../../demo/scenario-objects.js'
import { BUDGET_ANNOTATION, HANDLER_ANNOTATION } from '../../../src/admission/keys.js'
import { isNginxImage } from '../../../src/admission/prestop.js'

const input: ScenarioObjectsInput = {
  namespace: 'ns',
  replicas: 3,
  script: 'console.log(1)',
  appTemplate: app => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'lameduck:0.1.0' }] } }),
  nginxImage: 'nginx:1.22-debian-demo',
  sleepSeconds: 5,
  nginxBudgetSeconds: 11
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests, read field by field below
interface Obj { kind: string, metadata: { name: string, namespace: string }, spec?: any, data?: Record<string, string> }
const objects = (...args: Parameters<typeof scenarioObjects>): Obj[] => scenarioObjects(...args) as Obj[]
const names = (list: Obj[]): string[] => list.map(o => `${o.kind}/${o.metadata.name}`)

t.test('rollout and scale-in: the sample app, its Deployment web and Service web', async t => {
  for (const scenario of ['rollout', 'scale-in'] as const) {
    const list = objects(scenario, input, true)
    t.same(names(list), ['ConfigMap/sample-app', 'Deployment/web', 'Service/web'])
    t.ok(list.every(o => o.metadata.namespace === 'ns'))
    const web = list[1]!
    t.equal(web.spec.replicas, 3)
    t.same(web.spec.selector, { matchLabels: { app: 'web' } })
    t.same(web.spec.template.metadata.labels, { app: 'web' })
    t.same(list[2]!.spec.ports, [{ name: 'http', port: 80, targetPort: 'http' }])
    t.equal(list[0]!.data!['sample-app.ts'], 'console.log(1)')
  }
})

t.test('evict and drain: and the PodDisruptionBudget the app would ship; a node lost: the app alone', async t => {
  for (const scenario of ['evict', 'drain'] as const) {
    const list = objects(scenario, input, false)
    t.same(names(list), ['ConfigMap/sample-app', 'Deployment/web', 'Service/web', 'PodDisruptionBudget/web'], scenario)
    t.same(list[3]!.spec, { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } })
  }
  t.same(names(objects('node-loss', input, true)), ['ConfigMap/sample-app', 'Deployment/web', 'Service/web'])
})

t.test('nginx: nginx Pods as web in front of the sample app as backend; a hand-written sleep without lameduck, the exec handler with it', async t => {
  const without = objects('nginx', input, false)
  t.same(names(without), ['ConfigMap/sample-app', 'Deployment/backend', 'Service/backend', 'ConfigMap/nginx', 'Deployment/web', 'Service/web'])
  t.same(without[1]!.spec.template.metadata.labels, { app: 'backend' })
  t.same(without[2]!.spec.selector, { app: 'backend' })
  const plain = without[4]!.spec.template
  t.ok(isNginxImage(plain.spec.containers[0].image), 'lameduck recognises the image as nginx')
  t.same(plain.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } })
  t.equal(plain.metadata.annotations, undefined)
  t.equal(without[3]!.data!['nginx.conf'], nginxPodConfig())
  const shop = objects('nginx', input, true)[4]!.spec.template
  t.equal(shop.spec.containers[0].lifecycle, undefined, 'no hook of its own: lameduck injects one')
  t.same(shop.metadata.annotations, { [HANDLER_ANNOTATION]: 'exec', [BUDGET_ANNOTATION]: '11s' })
  t.same(shop.spec.containers[0].readinessProbe.httpGet, { path: '/healthz', port: 'http' })
})

t.test('the nginx Pods\' config: a proxy to backend, a health path, nothing written outside /tmp', async t => {
  const conf = nginxPodConfig()
  t.match(conf, /server backend:80;/)
  t.match(conf, /location = \/healthz/)
  t.match(conf, /listen 8080;/)
  t.match(conf, /pid \/tmp\/nginx\.pid;/)
  t.notMatch(conf, /daemon/, 'daemon off comes from the command line')
})

t.test('adaptive: the same Deployment; the adaptive handler\'s annotations with lameduck, a fixed sleep sized for the slow case without', async t => {
  const withIt = objects('adaptive', input, true)
  t.same(names(withIt), ['ConfigMap/sample-app', 'Deployment/web', 'Service/web'])
  t.same(withIt[1]!.spec.template.metadata.annotations, {
    'lameduck.dev/prestop-handler': 'adaptive', 'lameduck.dev/prestop-sleep': '1s', 'lameduck.dev/adaptive-quiet': '3s', 'lameduck.dev/adaptive-max': '60s'
  })
  t.equal(withIt[1]!.spec.template.spec.containers[0].lifecycle, undefined, 'lameduck gives the hook')
  const without = objects('adaptive', input, false)[1]!.spec.template
  t.equal(without.metadata.annotations, undefined)
  t.same(without.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } })
  t.equal(without.spec.terminationGracePeriodSeconds, 10)
})
