import t from 'tap'
import { CERTS_HELP, readCertsOptions } from '../../../src/certs/flags.js'
import { ConfigError } from '../../../src/common/flags.js'

t.test('defaults: the Service, Secrets and webhook of the manifests, a year, ten years', async t => {
  t.same(readCertsOptions(['--out', 'dir']), {
    out: 'dir',
    cluster: undefined,
    service: 'lameduck',
    namespace: 'lameduck-system',
    secret: 'lameduck-tls',
    caSecret: 'lameduck-ca',
    webhook: 'lameduck',
    extraDnsNames: [],
    ipAddresses: [],
    validityMs: 365 * 86_400_000,
    caValidityMs: 3650 * 86_400_000,
    force: false,
    rotateCa: false,
    overlapMs: 600_000,
    settleMs: 5000,
    wait: false
  })
  t.ok(Object.isFrozen(readCertsOptions(['--out', 'dir'])))
})

t.test('a cluster: --apply for the default kubeconfig, --kubeconfig FILE, --context', async t => {
  t.same(readCertsOptions(['--apply']).cluster, { kubeconfig: undefined, context: undefined })
  t.same(readCertsOptions(['--kubeconfig', 'k.yaml']).cluster, { kubeconfig: 'k.yaml', context: undefined })
  t.same(readCertsOptions(['--apply', '--context', 'prod']).cluster, { kubeconfig: undefined, context: 'prod' })
  t.equal(readCertsOptions(['--apply']).out, undefined)
})

t.test('every flag is read', async t => {
  const options = readCertsOptions(['--out=d', '--kubeconfig=k', '--service=web', '--namespace=hooks', '--secret=s', '--ca-secret=c',
    '--webhook=w.example.com', '--days=10', '--ca-days=20', '--force', '--overlap=3m', '--settle=0', '--wait'])
  t.match(options, { service: 'web', namespace: 'hooks', secret: 's', caSecret: 'c', webhook: 'w.example.com', validityMs: 10 * 86_400_000, caValidityMs: 20 * 86_400_000, force: true, rotateCa: false, overlapMs: 180_000, settleMs: 0, wait: true })
  t.match(readCertsOptions(['--out=d', '--rotate-ca']), { force: true, rotateCa: true }, '--rotate-ca renews the serving certificate too')
  t.match(readCertsOptions(['--out=d', '--validity=90s', '--ca-validity=4m']), { validityMs: 90_000, caValidityMs: 240_000 }, 'validities as durations, for tests')
  t.same(readCertsOptions(['--out=d', '--dns=hooks.example.com', '--dns', 'localhost', '--ip=127.0.0.1', '--ip', '::1', '--ip', '127.0.0.1']),
    { ...readCertsOptions(['--out=d']), extraDnsNames: ['hooks.example.com', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] }, '--dns and --ip repeat; a repeated value counts once')
  t.match(readCertsOptions(['--out=d', '--validity=2160h']), { validityMs: 90 * 86_400_000, caValidityMs: 3650 * 86_400_000 }, 'one of them alone')
})

t.test('bad flags and values are ConfigErrors that say what is wrong', async t => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^say where the key pair goes: --out DIR, --apply \(the default kubeconfig's cluster\) or --kubeconfig FILE$/],
    [['--out', 'd', '--context', 'x'], /^--context needs --apply or --kubeconfig$/],
    [['--out', 'd', '--days', '0'], /^--days: "0" is not a whole number of days \(1-36500\)$/],
    [['--out', 'd', '--days', '1.5'], /^--days: "1.5" is not/],
    [['--out', 'd', '--ca-days', '99999'], /^--ca-days: "99999" is not/],
    [['--out', 'd', '--days', '365', '--ca-days', '365'], /^the CA's validity \(365-day\) must be longer than the serving certificate's \(365-day\): the CA must outlive what it signs$/],
    [['--out', 'd', '--validity', '5m', '--ca-validity', '2m'], /^the CA's validity \(2m\) must be longer than the serving certificate's \(5m\)/],
    [['--out', 'd', '--days', '1', '--validity', '1h'], /^--days and --validity exclude each other$/],
    [['--out', 'd', '--ca-validity', 'later'], /^--ca-validity: "later" is not a duration/],
    [['--out', 'd', '--validity', '5s'], /^--validity: "5s" is shorter than 10s$/],
    [['--out', 'd', '--service', 'Web'], /^--service: "Web" is not a valid Kubernetes name$/],
    [['--out', 'd', '--namespace', 'a.b'], /^--namespace: "a.b" is not a valid Kubernetes name$/],
    [['--out', 'd', '--secret=-x'], /^--secret: "-x" is not a valid Kubernetes name$/],
    [['--out', 'd', '--ca-secret', 'lameduck-tls'], /^--secret and --ca-secret must differ/],
    [['--out', 'd', '--webhook', 'x_y'], /^--webhook: "x_y" is not/],
    [['--out', 'd', '--overlap', 'soon'], /^--overlap: "soon" is not a duration/],
    [['--out', 'd', '--settle', '1d'], /^--settle: "1d" is not a duration/],
    [['--out', 'd', '--dns', '*.example.com'], /^--dns: "\*\.example\.com" is not a DNS name \(lower-case letters, digits, dashes and dots; no wildcard\)$/],
    [['--out', 'd', '--dns', 'Hooks.example.com'], /^--dns: "Hooks\.example\.com" is not a DNS name/],
    [['--out', 'd', '--dns', 'a..b'], /^--dns: "a\.\.b" is not a DNS name/],
    [['--out', 'd', '--dns', ''], /^--dns: "" is not a DNS name/],
    [['--out', 'd', '--ip', '127.0.0.256'], /^--ip: "127\.0\.0\.256" is not an IPv4 or IPv6 address$/],
    [['--out', 'd', '--ip', 'localhost'], /^--ip: "localhost" is not an IPv4 or IPv6 address$/],
    [['--out', 'd', '--nope'], /Unknown option '--nope'/],
    [['--out', 'd', 'extra'], /extra/]
  ]
  for (const [argv, message] of cases) {
    let error: unknown
    try {
      readCertsOptions(argv)
    } catch (err) {
      error = err
    }
    t.ok(error instanceof ConfigError, `${argv.join(' ')}: a ConfigError`)
    t.match((error as Error).message, message, argv.join(' '))
  }
})

t.test('the help names every flag', async t => {
  for (const flag of ['--out', '--apply', '--kubeconfig', '--context', '--service', '--namespace', '--secret', '--ca-secret', '--webhook', '--dns', '--ip', '--days', '--ca-days', '--validity', '--ca-validity', '--force', '--rotate-ca', '--overlap', '--settle', '--wait']) {
    t.match(CERTS_HELP, new RegExp(`\\n  ${flag} `), flag)
  }
})
