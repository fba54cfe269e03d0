import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { buildPolicyObjects, type KubeObject } from '../../../src/mutating-policy/objects.js'
import { EACH } from '../../../src/mutating-policy/warnings.js'
import type { PolicySettings, Variable } from '../../../src/mutating-policy/settings.js'

const SETTINGS: PolicySettings = { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, handler: 'sleep', excludeNamespaces: ['lameduck-system', 'kube-system'] }
const [mutating, mutatingBinding, warnings, warningsBinding] = buildPolicyObjects(SETTINGS) as [KubeObject, KubeObject, KubeObject, KubeObject]
const spec = (object: KubeObject) => object.spec as Record<string, unknown> & { variables: Variable[] }

t.test('four objects: the mutating policy, the warnings policy and a binding each', async t => {
  t.same(buildPolicyObjects(SETTINGS).map(o => [o.apiVersion, o.kind, o.metadata.name]), [
    ['admissionregistration.k8s.io/v1', 'MutatingAdmissionPolicy', 'lameduck'],
    ['admissionregistration.k8s.io/v1', 'MutatingAdmissionPolicyBinding', 'lameduck'],
    ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', 'lameduck-warnings'],
    ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'lameduck-warnings']
  ])
  t.equal(spec(mutatingBinding).policyName, 'lameduck')
  t.equal(spec(warningsBinding).policyName, 'lameduck-warnings')
})

t.test('never blocks a Pod: failures ignored, warnings only', async t => {
  t.equal(spec(mutating).failurePolicy, 'Ignore')
  t.equal(spec(warnings).failurePolicy, 'Ignore')
  t.same(spec(warningsBinding).validationActions, ['Warn'])
  t.equal(spec(mutating).reinvocationPolicy, 'IfNeeded')
})

t.test('matches what the webhook matches (manifests/base/webhook.yaml)', async t => {
  const webhook = (parse(await readFile('manifests/base/webhook.yaml', 'utf8')) as { webhooks: Array<Record<string, unknown>> }).webhooks[0]!
  for (const object of [mutating, warnings]) {
    t.same(spec(object).matchConditions, webhook.matchConditions)
    t.same((spec(object).matchConstraints as { resourceRules: unknown[] }).resourceRules, webhook.rules)
  }
  for (const binding of [mutatingBinding, warningsBinding]) {
    const match = spec(binding).matchResources as Record<string, unknown>
    t.same(match.namespaceSelector, webhook.namespaceSelector)
    t.same(match.objectSelector, webhook.objectSelector)
  }
})

t.test('no excluded namespaces: the opt-in label alone', async t => {
  const [, binding] = buildPolicyObjects({ ...SETTINGS, excludeNamespaces: [] }) as [KubeObject, KubeObject]
  t.same((spec(binding).matchResources as Record<string, unknown>).namespaceSelector, { matchLabels: { 'lameduck.dev/inject': 'enabled' } })
})

t.test('every variable is defined once, before any expression uses it', async t => {
  for (const object of [mutating, warnings]) {
    const defined = new Set<string>()
    const uses = (expression: string) => [...expression.matchAll(/variables\.(\w+)/g)].map(m => m[1]!)
    for (const variable of spec(object).variables) {
      for (const name of uses(variable.expression)) t.ok(defined.has(name), `${variable.name} uses ${name} after its definition`)
      t.notOk(defined.has(variable.name), `${variable.name} is defined once`)
      defined.add(variable.name)
    }
    const rest = JSON.stringify([spec(object).mutations, spec(object).validations])
    for (const name of uses(rest)) t.ok(defined.has(name), `${name} is defined`)
  }
})

t.test('the limits are constants in the CEL', async t => {
  const variables = (settings: PolicySettings) => JSON.stringify(spec(buildPolicyObjects(settings)[0]!).variables)
  const custom = variables({ ...SETTINGS, defaultSleep: 7, defaultBudget: 9, maxSleep: 77, maxGrace: 99, handler: 'exec' })
  t.match(custom, /: 7"/, 'default sleep')
  t.match(custom, /: 9"/, 'default budget')
  t.match(custom, /variables\.sleepWanted < 77/, 'max sleep')
  t.match(custom, /< 99 \?/, 'max grace')
  t.match(custom, /== 'auto' \? \\"exec\\"/, 'what auto means')
})

t.test('the mutation: JSONPatch, nothing without a hooked container', async t => {
  const [mutation] = spec(mutating).mutations as Array<{ patchType: string, jsonPatch: { expression: string } }>
  t.equal(mutation!.patchType, 'JSONPatch')
  t.match(mutation!.jsonPatch.expression, /^size\(variables\.hookedNames\) == 0 \? \[\] : /)
  t.match(mutation!.jsonPatch.expression, /"\/metadata\/annotations\/lameduck\.dev~1injected"/)
  t.match(mutation!.jsonPatch.expression, /nginx -s quit/, 'the nginx preset from buildPreStop')
})

t.test('one validation per webhook warning: 8 annotation ones, the clamp, three per-item kinds, two grace ones', async t => {
  const validations = spec(warnings).validations as Array<{ expression: string, messageExpression: string }>
  t.equal(validations.length, 8 + 1 + 3 * (EACH + 1) + 2)
  for (const validation of validations) t.type(validation.messageExpression, 'string')
})
