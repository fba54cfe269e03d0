import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { checkLimits, policyLimits, POLICY_OPTIONS } from '../../../src/options/policy.js'
import { resolveOptions } from '../../../src/options/read.js'

t.test('serve, preview and policy share the policy options', async t => {
  const names = POLICY_OPTIONS.map(spec => spec.name)
  t.same(names, ['default-sleep', 'default-shutdown-budget', 'max-sleep', 'max-grace', 'exclude-namespaces'])
  const defaults = resolveOptions(POLICY_OPTIONS, {}, {})
  t.same({ ...defaults, excludeNamespaces: [...defaults.excludeNamespaces as Set<string>] }, {
    defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600,
    excludeNamespaces: ['lameduck-system', 'kube-system']
  })
})

t.test('the limits must agree with each other', async t => {
  t.doesNotThrow(() => { checkLimits({ defaultSleep: 15, maxSleep: 300, maxGrace: 600 }) })
  const error = (() => {
    try { checkLimits({ defaultSleep: 15, maxSleep: 300, maxGrace: 300 }) } catch (e) { return e }
  })()
  t.type(error, ConfigError, 'a usage error: exit 2')
  t.match(error, { message: /^--max-grace \(300s\) must be longer than --max-sleep \(300s\)/ })
})

t.test('the policy\'s share, as the core gets it', async t => {
  const options = { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, defaultHandler: 'auto' as const }
  const limits = policyLimits({ ...options, pauseImage: 'p:1' }, { handler: 'exec', delivery: 'image-volume' })
  t.same(limits, { ...options, autoHandler: 'exec', pause: { image: 'p:1', delivery: 'image-volume' } })
  t.ok(Object.isFrozen(limits))
  t.ok(Object.isFrozen(limits.pause))
  const descriptor = Object.getOwnPropertyDescriptor(limits, 'autoHandler')
  t.same(descriptor, { value: 'exec', writable: false, enumerable: true, configurable: false }, 'a value, not a getter')
  const forced = policyLimits({ ...options, pauseImage: 'p:1', pauseDelivery: 'init-container' },
    { handler: 'sleep', delivery: 'image-volume' })
  t.equal(forced.pause?.delivery, 'init-container', 'a delivery the options name wins over the cluster\'s')
  const auto = policyLimits({ ...options, pauseImage: 'p:1', pauseDelivery: 'auto' },
    { handler: 'sleep', delivery: 'image-volume' })
  t.equal(auto.pause?.delivery, 'image-volume', 'auto: the cluster\'s')
})
