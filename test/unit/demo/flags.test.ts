import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { DEFAULT_OUT, DEMO_HELP, readDemoCommand, type DemoOptions } from '../../../demo/flags.js'

const options = (argv: string[]): DemoOptions => {
  const command = readDemoCommand(argv)
  if (command.help) throw new Error('expected options, got help')
  return command.options
}

t.test('no flags: 200 requests/s, 3 replicas, 3 s propagation, no retries', async t => {
  t.same(options([]), { scenarios: ['rollout'], rate: 200, replicas: 3, propagationDelay: 3, retries: false, keep: false, json: undefined, out: DEFAULT_OUT })
  t.ok(Object.isFrozen(options([])))
})

t.test('every flag is read', async t => {
  t.same(options(['--scenario', 'nginx,evict', '--rate', '350.5', '--replicas', '5', '--propagation-delay', '1m', '--retries', '--keep', '--json', 'r.json', '--out', '/tmp/x']),
    { scenarios: ['nginx', 'evict'], rate: 350.5, replicas: 5, propagationDelay: 60, retries: true, keep: true, json: 'r.json', out: '/tmp/x' })
  t.equal(options(['--propagation-delay=7']).propagationDelay, 7, 'bare seconds, and --flag=value')
})

t.test('--help wins over everything else', async t => {
  t.same(readDemoCommand(['--rate', '1', '--help']), { help: true })
  for (const flag of ['--scenario', '--rate', '--replicas', '--propagation-delay', '--retries', '--keep', '--json', '--out']) t.match(DEMO_HELP, flag)
})

t.test('a bad flag or value is a ConfigError of one line naming it', async t => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/],
    [['--rate', 'fast'], /^--rate: "fast" is not a number from 10 to 2000$/],
    [['--rate', ''], /^--rate: "" is not a number/],
    [['--rate', '5'], /^--rate: "5" is not a number from 10/],
    [['--rate', '2001'], /^--rate: "2001"/],
    [['--replicas', '2.5'], /^--replicas: "2.5" is not a whole number from 1 to 10$/],
    [['--replicas', '0'], /^--replicas: "0"/],
    [['--replicas', '11'], /^--replicas: "11"/],
    [['--propagation-delay', 'soon'], /^--propagation-delay: "soon" is not a duration/],
    [['--propagation-delay', '0s'], /^--propagation-delay: "0s" must be from 1s to 60s$/],
    [['--propagation-delay', '61'], /^--propagation-delay: "61" must be from 1s to 60s$/],
    [['--json', ''], /^--json must not be empty$/],
    [['--out='], /^--out must not be empty$/],
    [['--rate'], /argument missing/],
    [['--scenario', 'reboot'], /^--scenario: "reboot" is not one of rollout, scale-in, evict, nginx, adaptive, drain, node-loss or all$/]
  ]
  for (const [argv, message] of cases) {
    let thrown: unknown
    try { readDemoCommand(argv) } catch (err) { thrown = err }
    t.ok(thrown instanceof ConfigError, `${argv.join(' ')}: a ConfigError`)
    t.match((thrown as Error).message, message, argv.join(' '))
    t.notMatch((thrown as Error).message, /\n/, 'one line')
  }
})
