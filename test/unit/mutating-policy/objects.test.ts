import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { buildPolicyObjects, type KubeObject } from '../../../src/mutating-policy/objects.js'
import type { PolicySettings, Variable } from '../../../src/mutating-policy/settings.js'

const SETTINGS: PolicySettings = { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, handler: 'sleep', excludeNamespaces: ['lameduck-system', 'kube-system'] }
const [mutating, mutatingBinding, warnings, warningsBinding] = buildPolicyObjects(SETTINGS) as [
  KubeObject,
  KubeObject,
  KubeObject,
  KubeObject
]
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
  t.match(mutation!.jsonPatch.expression, /kill -QUIT \$w/, 'the nginx preset from buildPreStop')
})

t.test('a validation per webhook warning: 8 of annotations, a clamp, 5 of the fit, 6 of names, 2 of grace', async t => {
  const validations = spec(warnings).validations as Array<{ expression: string, messageExpression: string }>
  t.equal(validations.length, 8 + 1 + 5 + 3 + 3 + 2)
  for (const validation of validations) t.type(validation.messageExpression, 'string')
  const messages = validations.map(v => v.messageExpression).join('\n')
  t.match(messages, /" already " \+ \(size\(variables\.keptHooks\) == 1 \? "has a preStop hook" : "have preStop hooks"\)/, 'one warning names every container with a hook of its own')
  t.match(messages, /a service-mesh proxy gets the same pause as the app/)
  t.match(messages, /lameduck.dev\/prestop-handler adaptive needs lameduck's webhook \(lameduck serve\), which brings the pause's program; this policy leaves the Pod unchanged/)
  t.match(messages, /is set by this Pod's own manifest/)
  t.match(messages, /Windows Pod/)
})

t.test('issue 12\'s rules: own grace period, Windows, mesh proxies', async t => {
  const byName = new Map(spec(mutating).variables.map(v => [v.name, v.expression]))
  t.match(byName.get('bare'), /ownerReferences/)
  t.match(byName.get('undecided'), /kubectl\.kubernetes\.io\/last-applied-configuration/, 'kubectl\'s record of the manifest')
  t.match(byName.get('undecided'), /'Apply'/, 'server-side apply')
  t.match(byName.get('sleep'), /variables\.fitted \? \(variables\.sleepResolved < \(variables\.graceGiven - 1\)/, 'the sleep fitted under the own grace period')
  t.match(byName.get('handler'), /variables\.windowsExec \? 'sleep'/)
  t.match(byName.get('hookedNames'), /^variables\.skip \? \[\] : /, 'nothing hooked when the Pod is left alone')
  t.match(byName.get('hookedNames'), /"istio-proxy"/, 'a mesh proxy is always selected')
  t.match(byName.get('grace'), /^variables\.fitted \? variables\.graceGiven : /, 'an own grace period kept')
  const told = spec(warnings).variables.find(v => v.name === 'fittedTold')!.expression
  t.match(told, /variables\.graceGiven == 600 .*size\(variables\.hookedNames\) > 0/, 'at --max-grace, with lameduck\'s hook, told as capped')
})
