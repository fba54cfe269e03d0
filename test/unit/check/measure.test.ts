import t from 'tap'
import type { V1Deployment } from '@kubernetes/client-node'
import { checkOverrideApplied, overridePatch, restorePatch, templateSleep } from '../../../src/check/measure.js'

const deployment = (annotations?: Record<string, string>): V1Deployment => ({
  spec: { selector: {}, template: { metadata: { ...(annotations === undefined ? {} : { annotations }) } } }
})

t.test('the override, and the patch that puts back what the template had', async t => {
  t.equal(templateSleep(deployment()), undefined)
  t.equal(templateSleep(deployment({ 'lameduck.dev/prestop-sleep': '5s' })), '5s')
  t.equal(templateSleep({}), undefined)
  t.same(overridePatch(60), { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': '60s' } } } } })
  t.same(restorePatch('5s'), { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': '5s' } } } } })
  t.same(restorePatch(undefined), { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': null } } } } }, 'null removes the key (JSON merge patch)')
})

t.test('every running Pod must have got the measuring pause from lameduck', async t => {
  const injected = (name: string, value?: string, leaving = false): Parameters<typeof checkOverrideApplied>[0][number] => ({ metadata: { name, ...(value === undefined ? {} : { annotations: { 'lameduck.dev/injected': value } }), ...(leaving ? { deletionTimestamp: new Date() } : {}) } })
  t.doesNotThrow(() => { checkOverrideApplied([injected('a', 'sleep=60s grace=75s handler=sleep containers=web'), injected('old', undefined, true)], 60) })
  t.throws(() => { checkOverrideApplied([injected('a', 'sleep=60s grace=75s'), injected('b'), injected('c', 'sleep=300s grace=600s'), {}], 600) }, {
    message: 'the Pods did not get the measuring pause sleep=600s from lameduck (a: sleep=60s grace=75s; b: not injected; c: sleep=300s grace=600s; : not injected): is the namespace opted in (lameduck.dev/inject=enabled) and lameduck installed, and is --measure-sleep under its --max-sleep?'
  })
})
