import t from 'tap'
import { identifyReplica, needsBody, parseIdentify } from '../../../src/load/identify.js'

t.test('--identify: a header, a JSON field (dotted for a nested one), or the body', async t => {
  t.same(parseIdentify('header:X-Pod'), { kind: 'header', name: 'x-pod' }, 'header names compare lower-case, as undici gives them')
  t.same(parseIdentify('json:pod'), { kind: 'json', path: ['pod'] })
  t.same(parseIdentify('json:meta.host'), { kind: 'json', path: ['meta', 'host'] })
  t.same(parseIdentify('body'), { kind: 'body' })
  for (const bad of ['', 'pod', 'header:', 'header:X Pod', 'json:', 'json:a..b', 'body:x', 'xml:pod']) {
    t.throws(() => parseIdentify(bad), { message: `identify: ${JSON.stringify(bad)} is not one of header:NAME, json:FIELD[.FIELD…] or body` }, bad)
  }
  t.equal(needsBody({ kind: 'header', name: 'x-pod' }), false)
  t.equal(needsBody({ kind: 'body' }), true)
})

t.test('the replica\'s name in an answer, or nothing when it does not say', async t => {
  const cases: Array<[string, Record<string, string | string[] | undefined>, string, string | undefined]> = [
    ['header:X-Pod', { 'x-pod': 'web-1' }, '', 'web-1'],
    ['header:X-Pod', { 'x-pod': ['web-2', 'web-3'] }, '', 'web-2'],
    ['header:X-Pod', {}, '', undefined],
    ['header:X-Pod', { 'x-pod': '  ' }, '', undefined],
    ['json:pod', {}, '{"pod":"web-1","path":"/"}', 'web-1'],
    ['json:meta.host', {}, '{"meta":{"host":"web-4"}}', 'web-4'],
    ['json:meta.host', {}, '{"meta":["web-4"]}', undefined],
    ['json:meta.host', {}, '{"meta":null}', undefined],
    ['json:id', {}, '{"id":7}', '7'],
    ['json:pod', {}, '{"pod":true}', undefined],
    ['json:pod', {}, 'not json', undefined],
    ['body', {}, 'web-5\n', 'web-5'],
    ['body', {}, '', undefined]
  ]
  for (const [spec, headers, body, name] of cases) t.equal(identifyReplica(parseIdentify(spec), headers, body), name, `${spec} ${JSON.stringify(headers)} ${body}`)
  t.equal(identifyReplica(parseIdentify('body'), {}, 'x'.repeat(300))?.length, 253, 'at most a Pod name\'s length')
})
