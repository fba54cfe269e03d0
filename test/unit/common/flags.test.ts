import t from 'tap'
import { ConfigError, flagTable, numberFlag, parseFlags } from '../../../src/common/flags.js'

t.test('flags are parsed strictly; a bad one is one ConfigError line', async t => {
  t.same(parseFlags(['--rate', '5', '--on'], { rate: { type: 'string' }, on: { type: 'boolean' } }), { rate: '5', on: true })
  for (const args of [['--nope'], ['stray'], ['--rate']]) {
    const error = (() => { try { parseFlags(args, { rate: { type: 'string' } }) } catch (e) { return e } })()
    t.type(error, ConfigError, args.join(' '))
    t.notMatch((error as Error).message, /\n/, 'one line')
  }
})

t.test('number flags: fallback, required, and messages that name the flag and the value', async t => {
  t.equal(numberFlag('rate', '7.5'), 7.5)
  t.equal(numberFlag('rate', undefined, { fallback: 20 }), 20)
  t.equal(numberFlag('days', '30', { whole: { min: 1, max: 365, unit: 'days' } }), 30)
  const cases: Array<[() => number, string]> = [
    [() => numberFlag('rate', 'lots'), '--rate must be a number, not "lots"'],
    [() => numberFlag('rate', ' '), '--rate must be a number, not " "'],
    [() => numberFlag('rate', undefined), '--rate must be a number'],
    [() => numberFlag('days', '1.5', { whole: { min: 1, max: 365, unit: 'days' } }), '--days: "1.5" is not a whole number of days (1-365)'],
    [() => numberFlag('days', '0', { whole: { min: 1, max: 365, unit: 'days' } }), '--days: "0" is not a whole number of days (1-365)'],
    [() => numberFlag('days', undefined, { whole: { min: 1, max: 365, unit: 'days' } }),
      '--days: "" is not a whole number of days (1-365)']
  ]
  for (const [read, message] of cases) t.throws(read, new ConfigError(message), message)
})

t.test('a flag table of string flags and switches', async t => {
  const table = flagTable(['url', 'rate'], ['quiet'])
  t.same(table, { url: { type: 'string' }, rate: { type: 'string' }, quiet: { type: 'boolean' } })
  t.same(parseFlags(['--url', 'u', '--quiet'], table), { url: 'u', quiet: true })
  t.same(flagTable(['a']), { a: { type: 'string' } })
})
