import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { durationFlag, envName, flagOptions, resolveOptions, type OptionSpec } from '../../../src/options/read.js'

t.test('a duration flag: the annotations\' syntax, a fallback, required without one; one line naming it', async t => {
  t.equal(durationFlag('timeout', '1m30s'), 90)
  t.equal(durationFlag('timeout', '15'), 15)
  t.equal(durationFlag('timeout', undefined, 10), 10)
  t.throws(() => durationFlag('duration', undefined), new ConfigError('--duration is required'))
  t.throws(() => durationFlag('duration', 'soon'),
    new ConfigError('--duration: "soon" is not a duration (use seconds like 15 or 15s, or 1m30s)'))
})

const SPECS: OptionSpec[] = [
  { name: 'max-sleep', key: 'maxSleep', kind: 'duration', default: '300s', help: '' },
  { name: 'quiet', key: 'quiet', kind: 'boolean', help: '' },
  { name: 'where', key: 'where', kind: 'string', help: '' }
]

t.test('a table of specs: a flag, else LAMEDUCK_<NAME>, else the default; a bad value names its source', async t => {
  t.same(flagOptions(SPECS), { 'max-sleep': { type: 'string' }, quiet: { type: 'boolean' }, where: { type: 'string' } })
  t.equal(envName('default-shutdown-budget'), 'LAMEDUCK_DEFAULT_SHUTDOWN_BUDGET')
  t.same(resolveOptions(SPECS, {}, {}), { maxSleep: 300, quiet: undefined, where: undefined })
  const env = { LAMEDUCK_MAX_SLEEP: '2m', LAMEDUCK_QUIET: 'yes' }
  t.same(resolveOptions(SPECS, {}, env), { maxSleep: 120, quiet: true, where: undefined })
  const flags = { 'max-sleep': '1m', quiet: false }
  t.same(resolveOptions(SPECS, flags, env), { maxSleep: 60, quiet: false, where: undefined }, 'a flag wins')
  t.throws(() => resolveOptions(SPECS, {}, { LAMEDUCK_MAX_SLEEP: 'long' }),
    new ConfigError('--max-sleep (LAMEDUCK_MAX_SLEEP): "long" is not a duration (use 15, 15s or 1m30s)'))
})
