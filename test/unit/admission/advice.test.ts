import t from 'tap'
import { adviseWorkload } from '../../../src/admission/advice.js'
import type { Container, Pod } from '../../../src/admission/pod.js'

type Json = Record<string, unknown>

const ready = { httpGet: { port: 8080 } }
const template = (containers: Container[], spec: Json = {}): Pod => ({ spec: { containers, ...spec } })
const web: Container = { name: 'web', ports: [{ containerPort: 8080 }], readinessProbe: ready }
const advise = (kind: string, pod: Pod, spec: Json = {}, grace = 30): string[] =>
  adviseWorkload({ kind, object: { kind, spec } }, pod, grace)

t.test('a container with ports and no readinessProbe; one line for all of them', async t => {
  t.same(advise('Deployment', template([web])), [], 'probed: nothing to say')
  t.same(advise('Deployment', template([{ name: 'worker' }, { name: 'web', ports: [] }])), [], 'no ports: nothing to say')
  t.same(advise('DaemonSet', template([{ name: 'a', ports: [{ containerPort: 1 }] }, { name: 'b', ports: [{ containerPort: 2 }] }])),
    ['containers "a" and "b" have ports but no readinessProbe: a new Pod gets traffic before it is ready, so a rollout drops requests even with lameduck'])
  t.same(advise('Job', template([{ name: 'a', ports: [{ containerPort: 1 }] }])), [], 'Jobs serve no traffic')
})

t.test('a Deployment whose rollout may take every replica down at once', async t => {
  const rolling = (replicas: number | undefined, maxUnavailable: unknown, type?: string): Json => ({
    ...(replicas === undefined ? {} : { replicas }),
    strategy: {
      ...(type === undefined ? {} : { type }),
      ...(maxUnavailable === undefined ? {} : { rollingUpdate: { maxUnavailable } })
    }
  })
  const cases: Array<[string, Json, boolean]> = [
    ['1 replica, maxUnavailable 1', rolling(1, 1), true],
    ['replicas unset (1), maxUnavailable 1', rolling(undefined, 1), true],
    ['3 replicas, maxUnavailable 3', rolling(3, 3), true],
    ['2 replicas, maxUnavailable 100%', rolling(2, '100%'), true],
    ['4 replicas, maxUnavailable 75% (3)', rolling(4, '75%'), false],
    ['4 replicas, the default 25%', rolling(4, undefined), false],
    ['1 replica, the default 25% (0)', rolling(1, undefined), false],
    ['0 replicas', rolling(0, 1), false],
    ['Recreate', rolling(1, 1, 'Recreate'), false],
    ['an unreadable value', rolling(1, 'half'), false],
    ['a value of the wrong type', rolling(1, true), false],
    ['no strategy at all', {}, false]
  ]
  for (const [name, spec, warned] of cases) {
    const advice = advise('Deployment', template([web]), spec).filter(line => line.startsWith('maxUnavailable'))
    t.equal(advice.length, warned ? 1 : 0, name)
    if (warned) t.match(advice[0], /^maxUnavailable \S+ lets a rollout take down all \d+ replicas? at once/, name)
  }
  const advice = advise('StatefulSet', template([web]), rolling(1, 1))
  const rollout = advice.filter(line => line.startsWith('maxUnavailable'))
  t.same(rollout, [], 'only Deployments')
  t.same(adviseWorkload({ kind: 'Deployment', object: { kind: 'Deployment' } }, template([web]), 30), [], 'no spec: one replica, 25% unavailable is 0')
})

t.test('a grace period written in the template below what its Pods get', async t => {
  t.same(advise('Deployment', template([web], { terminationGracePeriodSeconds: 10 }), {}, 45),
    ['terminationGracePeriodSeconds 10 in the Pod template is raised to 45 in every Pod; write 45 in the manifest, so that it says what runs'])
  t.same(advise('Deployment', template([web], { terminationGracePeriodSeconds: 30 }), {}, 45), [], '30 is the API server\'s default')
  t.same(advise('Deployment', template([web], { terminationGracePeriodSeconds: 60 }), {}, 60), [], 'long enough')
  t.same(advise('Deployment', template([web]), {}, 45), [], 'unset')
})

t.test('a mesh proxy as a regular container', async t => {
  const proxy: Container = { name: 'istio-proxy', image: 'istio/proxyv2:1.24', ports: [{ containerPort: 15090 }] }
  t.same(advise('Deployment', template([web, proxy])),
    ['container "istio-proxy": a service-mesh proxy as a regular container gets the same pause as the app, but SIGTERM with it after that; run it as a native sidecar (an init container with restartPolicy: Always) so it outlives the app'],
    'and no readiness advice for the proxy')
})
