import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parseAllDocuments } from 'yaml'
import { runCli } from '../../../src/cli/main.js'
import { headerOf, readPolicySettings, toYaml } from '../../../src/mutating-policy/command.js'
import { buildPolicyObjects, type KubeObject } from '../../../src/mutating-policy/objects.js'
import { readDocuments } from '../../../src/common/yaml.js'
import type { Io } from '../../../src/common/io.js'

function io (env: Record<string, string> = {}): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  return Object.assign(captured, {
    stdout: (text: string) => {
      captured.out += text
    },
    stderr: (text: string) => {
      captured.err += text
    },
    env
  })
}

t.test('the settings: serve\'s defaults, flags, LAMEDUCK_* variables and --handler', async t => {
  t.same(readPolicySettings([], {}), { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, excludeNamespaces: ['lameduck-system', 'kube-system'], handler: 'sleep' })
  const custom = readPolicySettings(['--default-sleep', '20s', '--max-grace', '2m', '--handler', 'exec', '--exclude-namespaces', 'a,b'], { LAMEDUCK_MAX_SLEEP: '1m' })
  t.same(custom, { defaultSleep: 20, defaultBudget: 15, maxSleep: 60, maxGrace: 120, excludeNamespaces: ['a', 'b'], handler: 'exec' })
  t.ok(Object.isFrozen(custom))
})

t.test('a bad flag is one line and exit 2', async t => {
  for (const [argv, message] of [
    [['--handler', 'auto'], 'lameduck policy: --handler: "auto" is not a handler (use sleep or exec)\n'],
    [['--max-grace', '10'], 'lameduck policy: --max-grace (10s) must be longer than --max-sleep (300s): the grace period must outlast the pause\n'],
    [['--max-sleep', 'soon'], 'lameduck policy: --max-sleep: "soon" is not a duration (use 15, 15s or 1m30s)\n'],
    [['--port', '1'], "lameduck policy: Unknown option '--port'\n"]
  ] as const) {
    const out = io()
    t.equal(await runCli(['policy', ...argv], out), 2, argv.join(' '))
    t.equal(out.err, message)
    t.equal(out.out, '')
  }
})

t.test('prints four YAML documents for kubectl, with the settings in a header', async t => {
  const out = io()
  t.equal(await runCli(['policy', '--handler', 'exec'], out), 0)
  t.match(out.out, /^# lameduck as admission policies \(Kubernetes 1\.36 or newer\)/)
  t.match(out.out, /^# --default-sleep 15s --default-shutdown-budget 15s --max-sleep 300s --max-grace 600s --handler exec --exclude-namespaces lameduck-system,kube-system$/m)
  const documents = parseAllDocuments(out.out).map(doc => doc.toJS() as KubeObject)
  t.same(documents.map(doc => doc.kind), ['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'])
})

t.test('strings kubectl would read as something else are quoted; CEL stays on one line', async t => {
  const values = ['no', 'yes', 'off', '0o17']
  const object: KubeObject = { apiVersion: 'v1', kind: 'X', metadata: { name: 'on' }, spec: { values, expression: 'a'.repeat(300) } }
  const yaml = toYaml([object, object], headerOf({ defaultSleep: 1, defaultBudget: 0, maxSleep: 2, maxGrace: 3, handler: 'sleep', excludeNamespaces: [] }))
  t.match(yaml, /name: "on"/)
  t.match(yaml, /- "no"\n\s+- "yes"\n\s+- "off"\n\s+- "0o17"/)
  t.match(yaml, new RegExp(`expression: ${'a'.repeat(300)}\n`))
  t.match(yaml, /\n---\n/)
})

t.test('what it prints reads back, as kubectl reads YAML, as the objects it built', async t => {
  // Valid namespace names that kubectl reads plain as an integer, a float, a boolean.
  const argv = ['--exclude-namespaces', '0o17,0x1f,1e3,012,on,null,lameduck-system', '--handler', 'exec']
  const out = io()
  t.equal(await runCli(['policy', ...argv], out), 0)
  const read = readDocuments(out.out, 'policy').map(document => document.value)
  t.strictSame(read, buildPolicyObjects(readPolicySettings(argv, {})))
})

t.test('help', async t => {
  const out = io()
  t.equal(await runCli(['policy', '--help'], out), 0)
  t.match(out.out, /^Usage: lameduck policy \[flags\] \| kubectl apply -f -/)
  t.match(out.out, /--handler sleep\|exec/)
  t.match(out.out, /--max-sleep\s+no annotation can make the sleep longer \(default 300s\)/)
  const all = io()
  await runCli(['--help'], all)
  t.match(all.out, /policy\s+print lameduck as admission policies/)
})

t.test('manifests/policy/policy.yaml is what lameduck policy prints (npm run manifests:policy)', async t => {
  const out = io()
  await runCli(['policy'], out)
  t.equal(await readFile('manifests/policy/policy.yaml', 'utf8'), out.out, 'out of date: run npm run manifests:policy')
})
