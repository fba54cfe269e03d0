// The differential test of `lameduck policy`: the same Pods created (dry run) through one real
// kube-apiserver in four kinds of namespace with the same annotations: bound to the admission
// policies, served by the webhook, both, and neither. Stored Pods must be equal field by field
// between policy and webhook (and both), the warnings equal but for docs/policy.md's intended
// differences, a Pod the API server accepts without lameduck accepted with the policies (and
// accepted by the policy exactly when by the webhook), and a Pod the policy mutated left as it is
// when created again (re-invocation).
// Corpus: the example Pod, unit-test cases and POLICY_CORPUS (default 300) fast-check Pods;
// POLICY_SEED replays a run.
import t from 'tap'
import fc from 'fast-check'
import { readFile } from 'node:fs/promises'
import { parseAllDocuments } from 'yaml'
import { runCli } from '../../src/cli/main.js'
import { clusterFor, kubectl, namespace, podOf, registerWebhook, startWebhook, until, type Pod } from '../helpers/e2e.js'
import { dryRunClient, type DryRunResult } from '../helpers/dry-run.js'
import { corpusPod, namespaceAnnotations } from '../helpers/pod-corpus.js'
import { comparable, expectedPolicyWarnings, leftToWebhook, policyWarnings, recreate, undecided } from '../helpers/policy-diff.js'
import { LIMITS, pod } from '../helpers/pods.js'

const MODE = 'lameduck-test/mode'
const MODES = ['plain', 'policy', 'webhook', 'both'] as const
type Mode = typeof MODES[number]
const seed = Number(process.env.POLICY_SEED ?? Date.now() % 2 ** 31)
const size = Number(process.env.POLICY_CORPUS ?? 300)
t.comment(`corpus: ${size} fast-check Pods, seed ${seed} (POLICY_SEED=${seed} replays it)`)

const cluster = await clusterFor(t, 600_000)

// The policies exactly as `lameduck policy` prints them, through kubectl (YAML 1.1 as it reads it) …
const printed = { out: '', err: '' }
if (await runCli(['policy'], { stdout: text => { printed.out += text }, stderr: text => { printed.err += text }, env: {} }) !== 0) throw new Error(printed.err)
await kubectl(cluster, ['apply', '-f', '-'], printed.out)
// … then each binding and the webhook narrowed to the namespaces of their mode.
const narrow = (modes: string[]) => JSON.stringify([{ op: 'add', path: '/spec/matchResources/namespaceSelector/matchExpressions/-', value: { key: MODE, operator: 'In', values: modes } }])
await kubectl(cluster, ['patch', 'mutatingadmissionpolicybinding', 'lameduck', '--type=json', '-p', narrow(['policy', 'both'])])
await kubectl(cluster, ['patch', 'validatingadmissionpolicybinding', 'lameduck-warnings', '--type=json', '-p', narrow(['policy', 'both'])])
const webhook = await startWebhook(t, cluster)
await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
await kubectl(cluster, ['patch', 'mutatingwebhookconfiguration', 'lameduck', '--type=json', '-p',
  JSON.stringify([{ op: 'add', path: '/webhooks/0/namespaceSelector/matchExpressions/-', value: { key: MODE, operator: 'In', values: ['webhook', 'both'] } }])])

// Namespace annotation sets: none, examples/namespaces.yaml's two, some arbitrary ones.
const examples = parseAllDocuments(await readFile(new URL('../../examples/namespaces.yaml', import.meta.url), 'utf8'))
  .map(doc => (doc.toJS() as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {})
const sets = [
  {},
  ...examples.filter(a => Object.keys(a).length > 0),
  ...fc.sample(namespaceAnnotations, { numRuns: 5, seed })
]
const nsName = (mode: Mode, set: number): string => `${mode}-${set}`
await Promise.all(sets.flatMap((annotations, set) => MODES.map(mode =>
  namespace(cluster, nsName(mode, set), mode === 'plain' ? {} : { 'lameduck.dev/inject': 'enabled', [MODE]: mode }, annotations))))

const client = await dryRunClient(cluster.kubeconfigPath)
t.teardown(() => client.close())
// In force, and narrowed: a Pod with a bad value is mutated and warned about by the policies alone in
// a policy namespace, by the webhook alone in a webhook namespace (the API server loads policies and
// bindings a moment after they are applied).
const probe = podOf({ annotations: { 'lameduck.dev/prestop-sleep': 'soon' } })
const fromPolicy = (w: string) => w.startsWith('Validation failed for ValidatingAdmissionPolicy')
const fromWebhook = (w: string) => w.startsWith('lameduck: ')
const settled = (mode: Mode, policyWarns: boolean, webhookWarns: boolean) => async () => {
  const result = await client.create(nsName(mode, 0), probe)
  return result.accepted &&
    result.pod.metadata?.annotations?.['lameduck.dev/injected'] !== undefined &&
    result.warnings.some(fromPolicy) === policyWarns &&
    result.warnings.some(fromWebhook) === webhookWarns
    ? true
    : undefined
}
await until('the policies to be in force in their namespaces only', settled('policy', true, false))
await until('the webhook to be in force in its namespaces only', settled('webhook', false, true))
await until('both to be in force together', settled('both', true, true))

const example = (JSON.parse(await readFile(new URL('../../examples/pod-review.json', import.meta.url), 'utf8')) as { request: { object: Pod } }).request.object
delete example.metadata!.ownerReferences
delete example.metadata!.namespace

/** The example Pod and the unit tests' cases. */
const fixtures: Pod[] = [
  example,
  pod([{ name: 'web' }, { name: 'api' }], { annotations: { a: 'b' } }),
  pod([{ name: 'web', lifecycle: { preStop: { sleep: { seconds: 15 } }, postStart: { exec: { command: ['true'] } } } }, { name: 'api', lifecycle: { postStart: { exec: { command: ['true'] } } } }]),
  pod([{ name: 'web', lifecycle: { preStop: { sleep: { seconds: 3 } } } }]),
  pod([{ name: 'web' }, { name: 'api' }, { name: 'proxy' }], { annotations: { 'lameduck.dev/containers': 'api,proxy,migrate,ghost' }, spec: { initContainers: [{ name: 'migrate', image: 'x' }] } }),
  pod([{ name: 'web' }, { name: 'proxy', image: 'nginx:1.27' }], { annotations: { 'lameduck.dev/prestop-handler': 'exec' } }),
  pod([{ name: 'proxy', image: 'nginx' }]),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '40' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '400s', 'lameduck.dev/shutdown-budget': '10m' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '0', 'lameduck.dev/shutdown-budget': 'soon' }, spec: { terminationGracePeriodSeconds: 700 } }),
  pod([{ name: 'web' }], { labels: { 'lameduck.dev/inject': 'disabled' } }),
  pod([{ name: 'web' }], { spec: { restartPolicy: 'Never' } }),
  podOf(),
  // Issue 12's rules: a bare Pod's own grace period (fitted, too short, and 30 named by kubectl or server-side apply) …
  pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: 20 } }),
  pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: 1 } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '40s', 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Pod","spec":{"terminationGracePeriodSeconds":30}}' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '40s', 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Pod","spec":{}}' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '40s', 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"\\u0074erminationGracePeriodSeconds":30}}' } }),
  { ...pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '40s' } }), metadata: { generateName: 'web-', annotations: { 'lameduck.dev/prestop-sleep': '40s' }, managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:terminationGracePeriodSeconds': {} } } }] } },
  { ...pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: 5 } }), metadata: { generateName: 'web-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: '0b0b8a8e-6f0c-4a8e-9d7e-0c9f4a1e2b3c', controller: true }] } },
  // … Windows, mesh proxies, nginx-slim, and durations of hours.
  pod([{ name: 'web', image: 'mcr.microsoft.com/windows/servercore:ltsc2022' }], { annotations: { 'lameduck.dev/prestop-handler': 'exec' }, spec: { os: { name: 'windows' } } }),
  // … the adaptive handler, also beside a native sleep of its own that only the webhook's grace period makes valid.
  pod([{ name: 'web' }, { name: 'old', lifecycle: { preStop: { sleep: { seconds: 40 } } } }], { annotations: { 'lameduck.dev/prestop-handler': 'adaptive' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-handler': 'adaptive' }, spec: { os: { name: 'windows' } } }),
  pod([{ name: 'web' }, { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.22' }, { name: 'mesh', image: 'envoyproxy/envoy:v1.30' }], { annotations: { 'lameduck.dev/containers': 'web' } }),
  pod([{ name: 'web', image: 'registry.k8s.io/nginx-slim:0.27' }, { name: 'api', image: 'bitnami/nginx:1.27' }], { annotations: { 'lameduck.dev/prestop-handler': 'exec' } }),
  pod([{ name: 'web', image: 'registry.k8s.io/nginx-slim:0.27' }, { name: 'api', image: 'bitnami/nginx:1.27' }]),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '1h', 'lameduck.dev/shutdown-budget': '1h30m' } }),
  pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': '90s', 'lameduck.dev/shutdown-budget': '3600' } }),
  pod(Array.from({ length: 30 }, (_, i) => ({ name: `nginx-${i}`, image: 'nginx:1.27' })))
]
const corpus = [...fixtures, ...fc.sample(corpusPod, { numRuns: size, seed })]
const counts = { pods: corpus.length, invalid: 0, mutated: 0, unchanged: 0, undecided: 0, leftToWebhook: 0 }

/** One Pod through all four namespaces of its annotation set, and the policy's result once more. */
async function run (subject: Pod, index: number): Promise<string[]> {
  const set = index % sets.length
  const [plain, policy, webhookResult, both] = (await Promise.all(
    MODES.map(mode => client.create(nsName(mode, set), subject))
  )) as [DryRunResult, DryRunResult, DryRunResult, DryRunResult]
  // A Pod the API server refuses without lameduck may pass with it (a grace period raised above a
  // native sleep of its own): then the policy and the webhook must still agree.
  if (!plain.accepted) counts.invalid++
  if (plain.accepted && !policy.accepted) return [`rejected by the policy only: ${policy.message}`]
  if (!plain.accepted && leftToWebhook(subject, sets[set]!, LIMITS)) {
    // The policy leaves an adaptive Pod as the API server finds it: refused as without lameduck,
    // where the webhook's grace period may make it valid (a native sleep of its own above 30 s).
    if (policy.accepted) return [`an adaptive Pod refused without lameduck, accepted with the policy: ${JSON.stringify(comparable(policy.pod))}`]
    return webhookResult.accepted === both.accepted ? [] : [`accepted or not: webhook ${webhookResult.accepted}, both ${both.accepted}`]
  }
  if (policy.accepted !== webhookResult.accepted || webhookResult.accepted !== both.accepted) {
    return [`accepted or not: policy ${policy.accepted}, webhook ${webhookResult.accepted}, both ${both.accepted}`]
  }
  if (!policy.accepted || !webhookResult.accepted || !both.accepted) return []
  const problems: string[] = []
  const stored = comparable(policy.pod)
  const marker = (p: Pod) => p.metadata?.annotations?.['lameduck.dev/injected']
  counts[marker(policy.pod) === marker(subject) ? 'unchanged' : 'mutated']++
  const left = leftToWebhook(policy.pod, sets[set]!, LIMITS)
  if (left || undecided(policy.pod, sets[set]!, LIMITS)) {
    // The intended differences: the adaptive handler, and a grace period of 30 the policy cannot tell is the manifest's
    // own.
    counts[left ? 'leftToWebhook' : 'undecided']++
    if (!plain.accepted || JSON.stringify(stored) !== JSON.stringify(comparable(plain.pod)))
      problems.push(`undecided, but the policy changed the Pod: ${JSON.stringify(stored)}`)
  } else if (JSON.stringify(stored) !== JSON.stringify(comparable(webhookResult.pod))) {
    problems.push(`stored Pods differ:\n policy  ${JSON.stringify(stored)}\n webhook ${JSON.stringify(comparable(webhookResult.pod))}`)
  }
  if (JSON.stringify(comparable(both.pod)) !== JSON.stringify(comparable(webhookResult.pod))) problems.push(`policy and webhook together differ from the webhook: ${JSON.stringify(comparable(both.pod))}`)
  const expected = expectedPolicyWarnings(policy.pod, sets[set]!, LIMITS)
  const got = policyWarnings(policy.warnings)
  if (JSON.stringify(expected) !== JSON.stringify(got)) problems.push(`warnings differ:\n policy   ${JSON.stringify(got)}\n expected ${JSON.stringify(expected)}`)
  const again = await client.create(nsName('policy', set), recreate(policy.pod))
  if (!again.accepted) problems.push(`the policy's own result rejected when created again: ${again.message}`)
  else if (JSON.stringify(comparable(again.pod)) !== JSON.stringify(stored)) problems.push(`the policy's own result changed when created again: ${JSON.stringify(comparable(again.pod))}`)
  return problems
}

const failures: Array<{ index: number, pod: Pod, problems: string[] }> = []
t.test('the policy and the webhook store the same Pods', async t => {
  const started = Date.now()
  let next = 0
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < corpus.length) {
      const index = next++
      const subject = corpus[index]!
      const problems = await run(subject, index)
      if (problems.length > 0) failures.push({ index, pod: subject, problems })
    }
  }))
  t.comment(`${corpus.length} Pods in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  t.comment(JSON.stringify(counts))
  if (process.env.POLICY_DEBUG !== undefined) for (const f of failures) t.comment(JSON.stringify(f))
  t.same(failures.slice(0, 5), [], `every Pod the same through the policy and the webhook (${failures.length} differ)`)
  t.ok(counts.mutated > counts.pods / 3 && counts.unchanged > counts.pods / 20 && counts.invalid < counts.pods / 4, 'the corpus has mutated, unchanged and few invalid Pods')
  t.ok(counts.leftToWebhook > 0, 'and Pods whose handler is adaptive')
})

t.test('an annotation too large for CEL\'s cost budget: the policy leaves the Pod alone, never rejects it', async t => {
  const huge = pod([{ name: 'web' }], { annotations: { 'lameduck.dev/prestop-sleep': `${' '.repeat(200_000)}20` } })
  const [policy, webhookResult] = await Promise.all([client.create(nsName('policy', 0), huge), client.create(nsName('webhook', 0), huge)])
  t.ok(policy.accepted, 'accepted through the policy')
  t.ok(webhookResult.accepted, 'accepted through the webhook')
  if (!policy.accepted || !webhookResult.accepted) return
  t.equal(policy.pod.metadata?.annotations?.['lameduck.dev/injected'], undefined, 'the policy gave up (failurePolicy Ignore)')
  t.same(policy.pod.spec.containers[0]!.lifecycle, undefined)
  t.match(webhookResult.pod.metadata?.annotations?.['lameduck.dev/injected'], /^sleep=20s /, 'the webhook trims 200 kB of spaces')
})

// The API server runs admission policies in name order: zz-late-container after lameduck, so `late`
// gets its hook only by re-invocation (with reinvocationPolicy: Never it stays bare: tried on 1.37.2).
t.test('re-invocation: a container another policy adds after lameduck\'s gets the hook too', async t => {
  const late = (kind: string, spec: Record<string, unknown>) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name: 'zz-late-container' }, spec })
  const rules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    late('MutatingAdmissionPolicy', {
      matchConstraints: rules,
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      mutations: [{ patchType: 'JSONPatch', jsonPatch: { expression: "object.spec.containers.exists(c, c.name == 'late') ? [] : [JSONPatch{op: 'add', path: '/spec/containers/-', value: Object.spec.containers{name: 'late', image: 'example/late:1'}}]" } }]
    }),
    late('MutatingAdmissionPolicyBinding', { policyName: 'zz-late-container', matchResources: { namespaceSelector: { matchLabels: { 'lameduck-test/late': 'yes' } } } })
  ] }))
  await namespace(cluster, 'late-policy', { 'lameduck.dev/inject': 'enabled', [MODE]: 'policy', 'lameduck-test/late': 'yes' })
  const stored = await until('the late container and lameduck\'s marker', async () => {
    const result = await client.create('late-policy', podOf())
    return result.accepted && result.pod.spec.containers.length === 2 && result.pod.metadata?.annotations?.['lameduck.dev/injected'] !== undefined ? result.pod : undefined
  })
  t.equal(stored.metadata?.annotations?.['lameduck.dev/injected'], 'sleep=15s grace=30s handler=sleep containers=web,late')
  t.same(
    stored.spec.containers.map(c => c.lifecycle?.preStop),
    [{ sleep: { seconds: 15 } }, { sleep: { seconds: 15 } }]
  )
})
