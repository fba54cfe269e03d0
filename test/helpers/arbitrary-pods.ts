/**
 * Arbitrary Pods and annotations for property tests (fast-check): several regular containers, init
 * containers and native sidecars, existing hooks of every kind, keys that need escaping in a JSON
 * Pointer, and annotation values both valid and not.
 */
import fc from 'fast-check'
import { BUDGET_ANNOTATION, CONTAINERS_ANNOTATION, HANDLER_ANNOTATION, INJECTED_ANNOTATION, SLEEP_ANNOTATION } from '../../src/admission/keys.js'
import type { Container, Pod } from '../../src/admission/pod.js'

const KEYS = [SLEEP_ANNOTATION, BUDGET_ANNOTATION, CONTAINERS_ANNOTATION, HANDLER_ANNOTATION, INJECTED_ANNOTATION]
const NAMES = ['web', 'api', 'envoy', 'proxy', 'sidecar', 'migrate', 'a~b', 'x/y']

const annotationValue = fc.oneof(
  fc.constantFrom('0', '1', '15s', '1m30s', '10m', '99999', 'soon', '', '*', 'web,api', 'ghost', ' , ', 'auto', 'sleep', 'exec', 'wait'),
  fc.string({ maxLength: 12 })
)
export const annotations = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom('a/b', 'x~y', '~1/~0', 'app.kubernetes.io/name'), fc.string({ maxLength: 8 })), annotationValue, { maxKeys: 6 })
const hook = fc.constantFrom({ sleep: { seconds: 5 } }, { exec: { command: ['/drain'] } }, { httpGet: { path: '/stop', port: 8080 } })
const env = fc.array(
  fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), value: fc.string({ maxLength: 10 }) }),
  { maxLength: 300 }
)

const container = (name: string): fc.Arbitrary<Container> =>
  fc.record(
    {
      name: fc.constant(name),
      image: fc.constantFrom(
        'example/app:1',
        'nginx:1.27',
        'openresty/openresty',
        'registry.local:5000/team/api@sha256:00'
      ),
      env,
      lifecycle: fc.option(
        fc.record(
          { preStop: fc.option(hook, { nil: undefined }), postStart: fc.option(hook, { nil: undefined }) },
          { requiredKeys: [] }
        ),
        { nil: undefined }
      )
    },
    { requiredKeys: ['name', 'image'] }
  )

export const podArbitrary: fc.Arbitrary<Pod> = fc
  .uniqueArray(fc.constantFrom(...NAMES), { minLength: 2, maxLength: 6 })
  .chain(names => {
    const split = Math.max(1, Math.ceil(names.length / 2))
    const regular = names.slice(0, split)
    const init = names.slice(split)
    return fc.record(
      {
        metadata: fc.option(
          fc.record(
            {
              generateName: fc.constant('web-'),
              annotations: fc.option(annotations, { nil: undefined }),
              labels: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), {
                nil: undefined
              })
            },
            { requiredKeys: ['generateName'] }
          ),
          { nil: undefined }
        ),
        spec: fc.record(
          {
            containers: fc.tuple(...regular.map(container)),
            initContainers: fc.tuple(
              ...init.map(name =>
                fc.record(
                  {
                    name: fc.constant(name),
                    image: fc.constant('init:1'),
                    restartPolicy: fc.option(fc.constant('Always'), { nil: undefined })
                  },
                  { requiredKeys: ['name', 'image'] }
                )
              )
            ),
            terminationGracePeriodSeconds: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined })
          },
          { requiredKeys: ['containers'] }
        )
      },
      { requiredKeys: ['spec'] }
    ) as fc.Arbitrary<Pod>
  })

/** The only places a patch may touch. */
export const ALLOWED_PATHS: readonly RegExp[] = [
  /^\/spec\/terminationGracePeriodSeconds$/,
  /^\/metadata$/,
  /^\/metadata\/annotations$/,
  /^\/metadata\/annotations\/lameduck\.dev~1injected$/,
  /^\/spec\/containers\/\d+\/lifecycle$/,
  /^\/spec\/containers\/\d+\/lifecycle\/preStop$/
]
