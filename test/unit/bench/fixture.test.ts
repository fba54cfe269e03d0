import t from 'tap'
import { patchedObject, SHOP } from '../../../bench/fixture.js'

const review = { request: { uid: 'u1', object: { metadata: { name: 'p' }, spec: { terminationGracePeriodSeconds: 30 } } } }
const encode = (ops: unknown): string => Buffer.from(JSON.stringify(ops)).toString('base64')

t.test('an answer\'s patch applied to the review\'s object, the original left alone', async t => {
  const answer = { response: { uid: 'u1', allowed: true, patch: encode([{ op: 'replace', path: '/spec/terminationGracePeriodSeconds', value: 45 }]) } }
  t.same(patchedObject(review, answer), { metadata: { name: 'p' }, spec: { terminationGracePeriodSeconds: 45 } })
  t.equal(review.request.object.spec.terminationGracePeriodSeconds, 30)
})

t.test('an answer that cannot be compared says why', async t => {
  const cases: Array<[string, object, RegExp]> = [
    ['another uid', { response: { uid: 'u2', allowed: true, patch: encode([]) } }, /uid "u2" is not the request's/],
    ['no response', {}, /uid undefined/],
    ['refused', { response: { uid: 'u1', allowed: false } }, /does not allow/],
    ['no patch', { response: { uid: 'u1', allowed: true } }, /no patch/]
  ]
  for (const [name, answer, message] of cases) t.match((patchedObject(review, answer) as Error).message, message, name)
})

t.test('the fixture\'s namespace is opted in, with a pause and a budget', async t => {
  t.equal(SHOP.labels['lameduck.dev/inject'], 'enabled')
  t.equal(SHOP.annotations['lameduck.dev/prestop-sleep'], '20s')
})
