/**
 * A corpus of Pods for differential tests through a real API server: fast-check arbitraries that
 * make Pods the API server mostly accepts (container names are DNS labels, unique), with lameduck's
 * annotations valid and not, existing hooks (lameduck's own among them), init containers, native
 * sidecars, nginx images, grace periods around the interesting values, opt-out labels, Jobs' restart
 * policies, mirror Pods and up to a dozen containers; Windows Pods, mesh proxies, controller owners,
 * kubectl's last-applied record and server-side apply entries (a bare Pod's own grace period); and
 * namespace annotation sets.
 */
import fc from 'fast-check'
import type { Container, Pod } from '../../src/admission/pod.js'
import { buildPreStop } from '../../src/admission/prestop.js'

const SLEEP = 'lameduck.dev/prestop-sleep'
const BUDGET = 'lameduck.dev/shutdown-budget'
const CONTAINERS = 'lameduck.dev/containers'
const HANDLER = 'lameduck.dev/prestop-handler'
const INJECTED = 'lameduck.dev/injected'
const MIRROR = 'kubernetes.io/config.mirror'

const NAMES = ['web', 'api', 'envoy', 'istio-proxy', 'proxy', 'sidecar', 'migrate', 'worker', 'cache', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']

/** `arbitrary` or undefined, `absent` times out of `absent + present`. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>, absent: number, present: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary, weight: present })

const durationValue = fc.oneof(
  fc.constantFrom('0', '1', '15', '15s', '20', '1m', '1m30s', '5m1s', '10m0s', '1h', '299', '300', '301s', '400s', '600', '10m', '2147483647', '2147483648', '99999999999', '00000000000015', '0h0m0s', '1h30m', '2h0m1s', '3600', '90m', '1h1s', '61m'),
  fc.constantFrom(' 15s ', '\u00a020\ufeff', '\t1m\n', '15 s', '1.5s', '-5', '15ms', 'soon', '', ' ', 's', 'h1', '1m1h'),
  fc.integer({ min: 0, max: 700 }).map(String),
  fc.integer({ min: 0, max: 700 }).map(n => `${n}s`)
)
const containersValue = fc.oneof(
  fc.constantFrom('*', ' * ', '*,', 'web', 'web,api', 'web, api ,', 'api,web,api', 'ghost', 'web,ghost', 'migrate', 'sidecar', ',', ' , ', '', 'c1,c2,c3,c4,c5,c6,c7,c8,ghost,ghost2,ghost3'),
  fc.uniqueArray(fc.constantFrom(...NAMES, 'ghost'), { maxLength: 4 }).map(names => names.join(','))
)
const handlerValue = fc.constantFrom('auto', 'sleep', 'exec', 'adaptive', 'Exec', ' exec', '', 'wait')
const anyValue = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 }))

/** lameduck's four annotations (each maybe absent, valid or not), and sometimes an old marker. */
export const lameduckAnnotations: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    maybe(fc.oneof(durationValue, anyValue), 1, 1),
    maybe(fc.oneof(durationValue, anyValue), 1, 1),
    maybe(fc.oneof({ arbitrary: containersValue, weight: 4 }, { arbitrary: anyValue, weight: 1 }), 2, 1),
    maybe(fc.oneof(handlerValue, anyValue), 1, 1),
    maybe(fc.constant('sleep=1s grace=2s handler=exec containers=old'), 4, 1)
  )
  .map(values =>
    Object.fromEntries(
      [SLEEP, BUDGET, CONTAINERS, HANDLER, INJECTED].flatMap((key, index) =>
        values[index] === undefined ? [] : [[key, values[index]!]]
      )
    )
  )

const HOOKS = [
  { sleep: { seconds: 5 } }, { sleep: { seconds: 15 } }, { sleep: { seconds: 20 } },
  { exec: { command: ['sleep', '15'] } }, { exec: { command: ['sleep', '20'] } }, { exec: { command: ['/drain'] } },
  { exec: { command: ['/bin/sh', '-c', 'sleep 15; nginx -s quit; while [ -e /var/run/nginx.pid ] || [ -e /run/nginx.pid ]; do sleep 1; done'] } },
  { httpGet: { path: '/stop', port: 8080 } },
  buildPreStop('exec', 15, 'nginx')
]
const IMAGES = ['example/app:1', 'registry.local:5000/team/api@sha256:0123', 'nginx', 'nginx:1.27', 'docker.io/library/nginx:1.27@sha256:0123',
  'NGINX:latest', 'openresty/openresty:1.25', 'nginxinc/nginx-unprivileged:1.27', 'example/nginx-exporter:1', 'registry.local:5000/nginx',
  'registry.k8s.io/nginx-slim:0.27', 'bitnami/nginx:1.27', 'docker.io/istio/proxyv2:1.22', 'envoyproxy/envoy:v1.30']

const container = (name: string): fc.Arbitrary<Container> => fc.record({
  name: fc.constant(name),
  image: fc.constantFrom(...IMAGES),
  lifecycle: fc.option(fc.record({ preStop: fc.constantFrom(...HOOKS), postStart: fc.constant({ exec: { command: ['true'] } }) }, { requiredKeys: [] }), { nil: undefined })
}, { requiredKeys: ['name', 'image'] })

const initContainer = (name: string): fc.Arbitrary<Container> => fc.record({
  name: fc.constant(name),
  image: fc.constant('example/init:1'),
  restartPolicy: fc.constant('Always')
}, { requiredKeys: ['name', 'image'] })

const labels = fc.option(fc.oneof({ arbitrary: fc.constantFrom<Record<string, string>>({ 'lameduck.dev/inject': 'enabled' }, { app: 'web' }), weight: 8 }, { arbitrary: fc.constant({ 'lameduck.dev/inject': 'disabled' }), weight: 1 }), { nil: undefined, freq: 2 })
const grace = fc.option(
  fc.oneof(fc.constantFrom(0, 1, 29, 30, 31, 35, 45, 300, 600, 601, 1000), fc.integer({ min: 0, max: 700 })),
  { nil: undefined, freq: 2 }
)
const restartPolicy = fc.option(fc.oneof({ arbitrary: fc.constant('Always'), weight: 8 }, { arbitrary: fc.constantFrom('Never', 'OnFailure'), weight: 1 }), { nil: undefined })
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'
const applied = (spec: Record<string, unknown>, annotations: Record<string, string> = {}): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { annotations, name: 'web' }, spec })
const extraAnnotations: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { arbitrary: fc.constantFrom<Record<string, string>>({}, { 'prometheus.io/scrape': 'true' }), weight: 20 },
  { arbitrary: fc.constant<Record<string, string>>({ [MIRROR]: 'x' }), weight: 1 },
  // kubectl apply's record of the manifest: setting the grace period, not, or naming it elsewhere only.
  { arbitrary: fc.constantFrom(applied({ terminationGracePeriodSeconds: 30 }), applied({ containers: [] }), applied({}, { note: 'terminationGracePeriodSeconds' }), '{not json').map((text): Record<string, string> => ({ [LAST_APPLIED]: text })), weight: 4 }
)
/** A server-side apply's entry: it owns the grace period only if the manifest set it. */
const applyEntry = (fields: Record<string, unknown>) => [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': fields } }]
const managedFields = fc.option(fc.constantFrom(applyEntry({ 'f:terminationGracePeriodSeconds': {} }), applyEntry({ 'f:restartPolicy': {} })), { nil: undefined, freq: 6 })
const OWNER = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: '0b0b8a8e-6f0c-4a8e-9d7e-0c9f4a1e2b3c' }
const owners = fc.option(fc.constantFrom([{ ...OWNER, controller: true }], [OWNER]), { nil: undefined, freq: 4 })
const os = fc.option(fc.constantFrom({ name: 'windows' }, { name: 'linux' }), { nil: undefined, freq: 3 })

/** Pods with 1 to 12 regular containers and up to 3 init containers or native sidecars. */
export const corpusPod: fc.Arbitrary<Pod> = fc.tuple(
  fc.shuffledSubarray(NAMES, { minLength: 1, maxLength: 15 }),
  fc.integer({ min: 0, max: 3 })
).chain(([names, inits]) => {
  const initCount = Math.min(inits, names.length - 1)
  const regular = names.slice(initCount).slice(0, 12)
  return fc
    .record({
      annotations: fc.tuple(lameduckAnnotations, extraAnnotations).map(([a, b]) => ({ ...a, ...b })),
      labels,
      containers: fc.tuple(...regular.map(container)),
      initContainers: fc.tuple(
        ...names.slice(0, initCount).map(name =>
          fc.oneof(
            initContainer(name),
            initContainer(name).map(c => ({ name: c.name, image: c.image }))
          )
        )
      ),
      grace,
      restartPolicy,
      managedFields,
      owners,
      os
    })
    .map(p => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'corpus-',
        annotations: p.annotations,
        ...(p.labels === undefined ? {} : { labels: p.labels }),
        ...(p.managedFields === undefined ? {} : { managedFields: p.managedFields }),
        ...(p.owners === undefined ? {} : { ownerReferences: p.owners })
      },
      spec: {
        containers: p.containers,
        ...(p.initContainers.length === 0 ? {} : { initContainers: p.initContainers }),
        ...(p.grace === undefined ? {} : { terminationGracePeriodSeconds: p.grace }),
        ...(p.restartPolicy === undefined ? {} : { restartPolicy: p.restartPolicy }),
        ...(p.os === undefined ? {} : { os: p.os }),
        // The API server refuses a mirror Pod without a node.
        ...(p.annotations[MIRROR] === undefined ? {} : { nodeName: 'node-1' })
      }
    }))
})

/** Namespace annotations: lameduck's four, each maybe absent, valid or not. */
export const namespaceAnnotations: fc.Arbitrary<Record<string, string>> = lameduckAnnotations.map(annotations =>
  Object.fromEntries(Object.entries(annotations).filter(([key]) => key !== INJECTED))
)
