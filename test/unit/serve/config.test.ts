import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { readServeConfig } from '../../../src/serve/config.js'
import { policyLimits } from '../../../src/options/policy.js'

const SELF = ['--self-signed']

t.test('defaults', async t => {
  const config = readServeConfig(SELF, {})
  t.same(
    { ...config, excludeNamespaces: [...config.excludeNamespaces] },
    {
      host: '0.0.0.0',
      port: 8443,
      metricsPort: 9090,
      tlsCert: undefined,
      tlsKey: undefined,
      tlsSecret: undefined,
      selfSigned: true,
      namespace: 'lameduck-system',
      webhookConfiguration: 'lameduck',
      namespacesFile: undefined,
      kubeconfig: undefined,
      context: undefined,
      defaultSleep: 15,
      defaultBudget: 15,
      maxSleep: 300,
      maxGrace: 600,
      excludeNamespaces: ['lameduck-system', 'kube-system'],
      defaultHandler: 'auto',
      pauseImage: 'lameduck:0.1.0',
      pauseDelivery: 'auto',
      noAdvice: false,
      drainDelay: 5,
      bodyLimit: 4 * 1024 * 1024,
      headersTimeout: 100,
      requestTimeout: 110,
      maxConnections: 1000,
      logLevel: 'info',
      renewCerts: false,
      renewValidity: 365 * 86400,
      renewCaValidity: 3650 * 86400,
      renewOverlap: 600,
      certExpiryWarning: 14 * 86400
    }
  )
  t.ok(Object.isFrozen(config), 'read once, then frozen')
})

t.test('flags, then LAMEDUCK_* variables, then defaults', async t => {
  const env = { LAMEDUCK_PORT: '9443', LAMEDUCK_MAX_SLEEP: '2m', LAMEDUCK_SELF_SIGNED: 'true', LAMEDUCK_EXCLUDE_NAMESPACES: 'a, b,,' }
  const config = readServeConfig(['--port', '10443', '--body-limit', '512KiB', '--drain-delay', '1m', '--log-level', 'debug'], env)
  t.equal(config.port, 10443, 'the flag wins')
  t.equal(config.maxSleep, 120, 'from the environment')
  t.equal(config.selfSigned, true)
  t.same([...config.excludeNamespaces], ['a', 'b'])
  t.equal(config.bodyLimit, 512 * 1024)
  t.equal(config.drainDelay, 60)
  t.equal(config.logLevel, 'debug')
  t.equal(readServeConfig([], { LAMEDUCK_SELF_SIGNED: '1', LAMEDUCK_BODY_LIMIT: '2048' }).bodyLimit, 2048)
  t.equal(readServeConfig(['--tls-cert', 'c', '--tls-key', 'k'], { LAMEDUCK_SELF_SIGNED: 'false' }).tlsCert, 'c')
  t.match(readServeConfig(['--tls-cert', 'c', '--tls-key', 'k', '--renew-validity', '90s', '--renew-ca-validity', '4m'], { LAMEDUCK_RENEW_CERTS: 'true' }),
    { renewCerts: true, renewValidity: 90, renewCaValidity: 240 }, 'the in-cluster renewal, with the pair from a Secret volume')
  const chartFlags = ['--tls-secret', 'lameduck-tls', '--renew-certs', '--default-handler', 'exec']
  t.match(readServeConfig(chartFlags, { LAMEDUCK_NAMESPACE: 'hooks' }),
    { tlsSecret: 'lameduck-tls', tlsCert: undefined, selfSigned: false, renewCerts: true, namespace: 'hooks',
      defaultHandler: 'exec' },
    'the pair from a Secret, as the chart runs it')
})

t.test('a bad flag or value is one clear line', async t => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--bogus'], {}, /Unknown option '--bogus'/],
    [['--port'], {}, /--port <value>' argument missing/],
    [[...SELF, '--port', '99999'], {}, /^--port: "99999" is not a port \(0-65535\)$/],
    [[...SELF, '--port', 'http'], {}, /is not a port/],
    [[...SELF, '--max-sleep', 'long'], {}, /^--max-sleep: "long" is not a duration/],
    [[...SELF, '--body-limit', '4GB'], {}, /^--body-limit: "4GB" is not a size/],
    [[...SELF, '--log-level', 'loud'], {}, /^--log-level: "loud" is not a log level/],
    [[...SELF, '--default-handler', 'wait'], {}, /^--default-handler: "wait" is not a handler \(auto, sleep, exec, adaptive\)$/],
    [[...SELF, '--pause-delivery', 'copy'], {}, /^--pause-delivery: "copy" is not auto, init-container or image-volume$/],
    [[...SELF, '--host', ''], {}, /^--host: "" must not be empty$/],
    [[], { LAMEDUCK_SELF_SIGNED: 'maybe' }, /^--self-signed \(LAMEDUCK_SELF_SIGNED\): "maybe" is not true or false$/],
    [[], { LAMEDUCK_PORT: 'x', LAMEDUCK_SELF_SIGNED: '1' }, /^--port \(LAMEDUCK_PORT\): "x" is not a port/],
    [[...SELF, '--default-sleep', '0'], {}, /--default-sleep must be at least 1s/],
    [[...SELF, '--max-sleep', '0'], {}, /--max-sleep must be at least 1s/],
    [[...SELF, '--max-grace', '300'], {}, /--max-grace \(300s\) must be longer than --max-sleep \(300s\)/],
    [[...SELF, '--default-sleep', '10m'], {}, /--default-sleep \(600s\) must not exceed --max-sleep \(300s\)/],
    [['--tls-cert', 'c'], {}, /--tls-cert and --tls-key go together/],
    [[], {}, /^give one of --tls-cert and --tls-key, --tls-secret, or --self-signed$/],
    [[...SELF, '--tls-cert', 'c', '--tls-key', 'k'], {}, /give one of/],
    [['--tls-secret', 's', '--tls-cert', 'c', '--tls-key', 'k'], {}, /give one of/],
    [['--tls-secret', 's', '--namespaces-file', 'f'], {}, /^--tls-secret needs a cluster, not --namespaces-file$/],
    [[...SELF, '--namespaces-file', 'f', '--kubeconfig', 'k'], {}, /exclude each other/],
    [[...SELF, '--namespaces-file', 'f', '--context', 'c'], {}, /^--namespaces-file and --context exclude each other/],
    [[...SELF, '--body-limit', '10'], {}, /--body-limit must be at least 1KiB/],
    [[...SELF, '--headers-timeout', '0'], {}, /--headers-timeout must be at least 1s/],
    [[...SELF, '--max-connections', '0'], {}, /--max-connections must be at least 1/],
    [[...SELF, '--max-connections', 'many'], {}, /^--max-connections: "many" is not a whole number$/],
    [[...SELF, '--headers-timeout', '30s', '--request-timeout', '10s'], {}, /--request-timeout \(10s\) must not be shorter than --headers-timeout \(30s\)/],
    [[...SELF, '--renew-certs'], {}, /^--renew-certs needs a cluster and the key pair from a Secret/],
    [['--tls-cert', 'c', '--tls-key', 'k', '--namespaces-file', 'f', '--renew-certs'], {}, /^--renew-certs needs a cluster/],
    [[...SELF, '--renew-validity', '5s'], {}, /^--renew-validity must be at least 10s$/],
    [[...SELF, '--renew-validity', '10m', '--renew-ca-validity', '10m'], {}, /^--renew-ca-validity \(600s\) must be longer than --renew-validity \(600s\)/]
  ]
  for (const [argv, env, message] of cases) {
    const error = (() => { try { readServeConfig(argv, env) } catch (e) { return e } })()
    t.type(error, ConfigError, argv.join(' '))
    t.match((error as Error).message, message, argv.join(' '))
    t.notMatch((error as Error).message, /\n/, 'one line')
  }
})

t.test('the policy\'s share', async t => {
  const limits = policyLimits(readServeConfig(SELF, {}), { handler: 'exec', delivery: 'image-volume' })
  t.same(limits, { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, autoHandler: 'exec', defaultHandler: 'auto', pause: { image: 'lameduck:0.1.0', delivery: 'image-volume' } })
  const forced = policyLimits(readServeConfig([...SELF, '--pause-delivery', 'init-container', '--pause-image', 'r.example/p:1', '--default-handler', 'adaptive'], {}), { handler: 'sleep', delivery: 'image-volume' })
  t.same(forced.pause, { image: 'r.example/p:1', delivery: 'init-container' }, '--pause-delivery decides over what the cluster allows')
  t.equal(forced.defaultHandler, 'adaptive')
  t.ok(Object.isFrozen(limits))
  t.same(Object.getOwnPropertyDescriptor(limits, 'autoHandler'), { value: 'exec', writable: false, enumerable: true, configurable: false }, 'a plain value, not a getter')
})
