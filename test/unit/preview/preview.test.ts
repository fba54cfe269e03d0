import t from 'tap'
import YAML from 'yaml'
import { preview, readObjects, type NamespaceSource } from '../../../src/preview/preview.js'
import { LIMITS, namespace } from '../../helpers/pods.js'

const exclude = new Set(['kube-system'])
const shop: NamespaceSource = name => name === 'shop' ? namespace({ 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' }) : undefined
const run = (text: string, namespaces = shop) => preview(text, 'in.yaml', namespaces, LIMITS, exclude)

const template = (kind: string, extra = '') => `apiVersion: v1
kind: ${kind}
metadata: { name: web, namespace: shop }
spec:
${extra}`

const podSpec = (indent: string) => `${indent}containers:\n${indent}  - { name: web, image: app:1 }\n`

t.test('every workload kind gets its Pod template mutated', async t => {
  const kinds: Array<[string, string, string[]]> = [
    ['Pod', podSpec('  '), ['spec']],
    ['Deployment', `  template:\n    spec:\n${podSpec('      ')}`, ['spec', 'template', 'spec']],
    ['StatefulSet', `  template:\n    spec:\n${podSpec('      ')}`, ['spec', 'template', 'spec']],
    ['DaemonSet', `  template:\n    spec:\n${podSpec('      ')}`, ['spec', 'template', 'spec']],
    ['ReplicaSet', `  template:\n    spec:\n${podSpec('      ')}`, ['spec', 'template', 'spec']],
    ['CronJob', `  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Always\n${podSpec('          ')}`, ['spec', 'jobTemplate', 'spec', 'template', 'spec']]
  ]
  for (const [kind, spec, path] of kinds) {
    const result = run(template(kind, spec))
    let at: unknown = YAML.parse(result.yaml)
    for (const key of path) at = (at as Record<string, unknown>)[key]
    const podSpecOut = at as { containers: Array<{ lifecycle: unknown }>, terminationGracePeriodSeconds: number }
    t.same(podSpecOut.containers[0]?.lifecycle, { preStop: { sleep: { seconds: 20 } } }, kind)
    t.equal(podSpecOut.terminationGracePeriodSeconds, 45, kind)
    t.match(result.warnings, [new RegExp(`^${kind} shop/web: terminationGracePeriodSeconds raised from 30 to 45`)], kind)
  }
})

t.test('a Job is left alone and says why; so are kinds without a template and other namespaces', async t => {
  const job = run(template('Job', `  template:\n    spec:\n      restartPolicy: Never\n${podSpec('      ')}`))
  t.notMatch(job.yaml, /preStop/)
  t.same(job.warnings, ['Job shop/web: unchanged (restartPolicy Never)'])
  const service = run('kind: Service\nmetadata: { name: web }\nspec: {}\n')
  t.same(service.warnings, ['1 object has no Pod template, printed unchanged: 1 Service'])
  const elsewhere = run(`kind: Pod\nmetadata: { generateName: web- }\nspec:\n${podSpec('  ')}`)
  t.same(elsewhere.warnings, ['Pod web-: lameduck could not find namespace "default"; Pod left unchanged', 'Pod web-: unchanged (namespace unknown)'])
})

t.test('multi-document input, Lists and JSON', async t => {
  const twoDocs = `${template('Pod', podSpec('  '))}---\n# a comment only\n---\n${template('Pod', podSpec('  ')).replace('name: web', 'name: api')}`
  const result = run(twoDocs)
  t.equal(result.yaml.split('---\n').length, 2)
  t.equal((result.yaml.match(/preStop/g) ?? []).length, 2)
  const list = JSON.stringify({ kind: 'List', items: [YAML.parse(template('Pod', podSpec('  ')))] })
  t.match(run(list).yaml, /preStop/)
  for (const [metadata, field] of [['{name: y}', 'metadata.name'], ['{generateName: 1}', 'metadata.generateName'],
    ['{namespace: 017}', 'metadata.namespace'], ['{labels: {version: 1.10}}', 'metadata.labels["version"]'],
    ['{annotations: {prometheus.io/scrape: true}}', 'metadata.annotations["prometheus.io/scrape"]']]) {
    t.throws(() => readObjects(`kind: Service\nmetadata: ${metadata!}\n`, 'x'),
      { message: `x: document 1: ${field!} is not a string; kubectl refuses it too (quote it)` }, metadata!)
  }
  t.same(readObjects('kind: Service\nmetadata: {name: web, labels: {a: "1"}, annotations: {b: "y"}}\n', 'x').length, 1)
  t.same(readObjects('kind: Service\nmetadata: 3\n', 'x').length, 1, 'metadata no map: the API server refuses it')
  t.throws(() => readObjects('kind: PodList\nitems: [{kind: Pod}, 7]\n', 'x'), /^x: document 1, item 2 is not a Kubernetes object \(no kind\)$/)
  t.throws(() => readObjects('kind: ConfigMapList\nitems: 3\n', 'x'), /^x: document 1: a ConfigMapList without an items list$/)
})

t.test('an install file: the objects without a Pod template make one summary line', async t => {
  const others = ['ServiceAccount', 'ClusterRole', 'ClusterRole', 'ConfigMap', 'Service'].map((kind, i) => `kind: ${kind}\nmetadata: { name: o${i} }\n`)
  const result = run([...others, template('Deployment', `  template:\n    spec:\n${podSpec('      ')}`)].join('---\n'))
  t.same(result.warnings, [
    'Deployment shop/web: terminationGracePeriodSeconds raised from 30 to 45 (preStop sleep 20s + shutdown budget 25s)',
    '5 objects have no Pod template, printed unchanged: 1 ServiceAccount, 2 ClusterRole, 1 ConfigMap, 1 Service'
  ])
  t.equal(result.yaml.split('---\n').length, 6, 'every object is printed')
})

t.test('strings YAML 1.1 would read as booleans or numbers are printed quoted, in every document', async t => {
  const redis = `${template('Deployment', `  template:\n    metadata: { annotations: { trace: "on" } }\n    spec:\n      containers:\n        - { name: redis, image: redis:7, args: [--appendonly, "no", --port, "6379"] }\n`)}---
kind: ConfigMap
metadata: { name: flags }
data: { debug: "off", "y": "0o17", count: "1_000" }
`
  const { yaml } = run(redis)
  t.match(yaml, /- --appendonly\n\s+- "no"\n\s+- --port\n\s+- "6379"/)
  t.match(yaml, /trace: "on"/)
  t.match(yaml, /debug: "off"\n\s+"y": "0o17"\n\s+count: "1_000"/)
  t.same(readObjects(yaml, 'out').map(o => o.kind), ['Deployment', 'ConfigMap'], 'and it reads back')
})

t.test('bad input names the file, the document and what is wrong', async t => {
  t.throws(() => run('kind: Pod\n  bad: [indent\n'), /^in\.yaml: document 1: /)
  t.throws(() => run('- just\n- a list\n'), /^in\.yaml: document 1 is not a Kubernetes object \(no kind\)$/)
  t.throws(() => run('# nothing\n'), /^in\.yaml: no objects found$/)
  t.throws(() => run('name: x\n'), /document 1 is not a Kubernetes object \(no kind\)/)
  t.throws(() => run(template('Deployment', '  replicas: 1\n')), /^in\.yaml: Deployment shop\/web spec\.template must be an object$/)
  t.throws(() => run('kind: Pod\nmetadata: { name: p }\nspec: { containers: {} }\n'), /^in\.yaml: Pod p\.spec\.containers must be an array$/)
  t.throws(() => run(template('CronJob', '  schedule: "* * * * *"\n')), /CronJob shop\/web spec\.jobTemplate\.spec\.template must be an object$/)
  t.throws(() => run('kind: Pod\nspec: { containers: 1 }\n'), /Pod #1\.spec\.containers must be an array/)
})

t.test('the input object is never changed in place', async t => {
  const text = template('Deployment', `  template:\n    spec:\n${podSpec('      ')}`)
  const before = readObjects(text, 'x')
  run(text)
  t.same(readObjects(text, 'x'), before)
})

t.test('a key given twice: read as kubectl reads it (the last one), and said among the warnings', async t => {
  const result = run(template('Pod', `${podSpec('  ')}  restartPolicy: Never\n  restartPolicy: Always\n`))
  t.match(YAML.parse(result.yaml), { spec: { restartPolicy: 'Always', containers: [{ lifecycle: { preStop: {} } }] } })
  t.match(result.warnings, [/key "restartPolicy" is given twice: the last value is used, as kubectl does$/], 'told first')
})
