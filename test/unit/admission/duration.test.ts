import t from 'tap'
import { parseDuration, formatDuration } from '../../../src/admission/duration.js'

t.test('parses the forms the annotations use', async t => {
  const cases: Array<[string, number]> = [['15', 15], ['15s', 15], ['1m30s', 90], ['2m', 120], ['1h', 3600], [' 0 ', 0], ['1h1m1s', 3661]]
  for (const [text, seconds] of cases) t.equal(parseDuration(text), seconds, text)
})

t.test('names what is wrong with a bad value', async t => {
  for (const text of ['', 'abc', '-5', '1.5s', '15ms', 's', '1s1m']) {
    const result = parseDuration(text)
    t.type(result, Error, text)
    t.match((result as Error).message, 'is not a duration', text)
  }
  t.match((parseDuration('99999999999') as Error).message, 'too long')
  t.match((parseDuration('99999999999999999999h') as Error).message, 'too long')
})

t.test('formats seconds back the short way', async t => {
  t.equal(formatDuration(15), '15s')
  t.equal(formatDuration(60), '1m')
  t.equal(formatDuration(90), '1m30s')
  const shortest: Array<[number, string]> = [[0, '0s'], [3600, '1h'], [3660, '1h1m'], [3601, '1h1s'], [5430, '1h30m30s'], [86400, '24h']]
  for (const [seconds, text] of shortest) {
    t.equal(formatDuration(seconds), text, `${seconds} s is ${text}, not ${seconds / 60}m`)
    t.equal(parseDuration(text), seconds, `${text} reads back`)
  }
})
