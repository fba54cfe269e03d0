// The chart with the real Helm (.lameduck/bin/helm, built from its Go module), no cluster: `helm
// lint --strict` is clean and fails on a broken template; values.schema.json makes `helm install`
// fail on an unknown key or a wrong value, naming it; each value has its effect on what is
// rendered; manifests/ is the chart rendered (`npm run manifests:render`) and kustomize builds the
// same objects as `helm template`, Helm's own labels aside. The install itself, on a real node:
// test/node/node.test.ts.
import t from 'tap'
import { cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ensureBinaries } from '../../control-plane/build.js'
import { runHelm } from '../../control-plane/helm.js'
import { runTool } from '../../control-plane/kubectl.js'
import { childEnv } from '../../control-plane/env.js'
import { binaryPath, repoRoot } from '../../control-plane/paths.js'
import { renderManifests, withoutHelmLabels } from '../../charts/render.js'

t.setTimeout(45 * 60_000)
await ensureBinaries({ log: line => { t.comment(line) } })
t.setTimeout(300_000)

const CHART = join(repoRoot, 'charts/lameduck')

/** `helm install --dry-run=client` (no cluster needed) with `--set` values: its exit code and what it printed. */
async function install (...set: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return await runHelm(undefined, ['install', 'lameduck', CHART, '--namespace', 'lameduck-system', '--dry-run=client', ...set.flatMap(value => ['--set', value])])
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests, read field by field below
type Manifest = Record<string, any>
type Obj = { kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> } } & Manifest

/** The objects `helm template` renders with `set`, by `Kind/name`. */
async function rendered (...set: string[]): Promise<Map<string, Obj>> {
  const { code, stdout, stderr } = await runHelm(undefined, ['template', 'lameduck', CHART, '--namespace', 'lameduck-system', ...set.flatMap(value => ['--set', value])])
  if (code !== 0) throw new Error(stderr)
  const objects = parseAllDocuments(stdout).map(doc => doc.toJS() as Obj | null).filter((o): o is Obj => o !== null)
  return new Map(objects.map(o => [`${o.kind}/${o.metadata.name}`, o]))
}

const container = (objects: Map<string, Obj>): Manifest => objects.get('Deployment/lameduck')!.spec.template.spec.containers[0]

t.test('helm lint --strict: clean, and a broken template fails it', async t => {
  const clean = await runHelm(undefined, ['lint', '--strict', CHART])
  t.equal(clean.code, 0, clean.stdout + clean.stderr)
  t.notMatch(clean.stdout, /\[(WARNING|ERROR)\]/)
  const broken = join(t.testdir({}), 'lameduck')
  await cp(CHART, broken, { recursive: true })
  const service = join(broken, 'templates/service.yaml')
  await writeFile(service, (await readFile(service, 'utf8')).replace('  ports:\n', '  ports:\n   - name: misaligned\n'))
  const lint = await runHelm(undefined, ['lint', '--strict', broken])
  t.equal(lint.code, 1)
  t.match(lint.stdout, /\[ERROR\] templates\/service\.yaml: unable to parse YAML/)
})

t.test('values.schema.json: helm install fails on an unknown key or a wrong value, naming it', async t => {
  const cases: Array<[string, RegExp]> = [
    ['replica=3', /at '': additional properties 'replica' not allowed/],
    ['image.registry=x', /at '\/image': additional properties 'registry' not allowed/],
    ['replicas=two', /at '\/replicas': got string, want integer/],
    ['failurePolicy=Never', /at '\/failurePolicy': value must be one of 'Ignore', 'Fail'/],
    ['defaults.sleep=banana', /at '\/defaults\/sleep': 'banana' does not match pattern/],
    ['defaults.handler=adaptive', /at '\/defaults\/handler': value must be one of 'auto', 'sleep', 'exec'/],
    ['certificates.source=vault', /at '\/certificates\/source': value must be one of 'self', 'cert-manager', 'secret'/],
    ['certificates.source=secret', /at '\/certificates\/secretName': minLength/],
    ['image.digest=latest', /at '\/image\/digest': 'latest' does not match pattern/]
  ]
  for (const [value, message] of cases) {
    const { code, stderr } = await install(value)
    t.equal(code, 1, value)
    t.match(stderr, /values don't meet the specifications of the schema/, value)
    t.match(stderr, message, value)
  }
  t.equal((await install('defaults.sleep=20', 'defaults.maxGrace=10m', 'replicas=3')).code, 0, 'a number of seconds, a duration, a count: accepted')
})

t.test('each value has its effect on what is rendered', async t => {
  const defaults = await rendered()
  t.equal(container(defaults).image, 'lameduck:0.1.0', 'the appVersion as tag')
  t.same(container(defaults).args.slice(1, 4), ['--tls-secret=lameduck-tls', '--renew-certs', '--renew-validity=8760h'], 'self: the Secret, and the renewal')
  t.equal(defaults.get('Deployment/lameduck')!.spec.template.spec.volumes, undefined, 'no volume: the pair comes through the API server')
  t.same(defaults.get('Secret/lameduck-tls'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lameduck-tls', namespace: 'lameduck-system', labels: defaults.get('Secret/lameduck-tls')!.metadata.labels }, type: 'Opaque' }, 'shipped empty')
  t.notOk(JSON.stringify(defaults.get('MutatingWebhookConfiguration/lameduck')).includes('caBundle'), 'no caBundle for helm upgrade to wipe')
  t.same(defaults.get('MutatingWebhookConfiguration/lameduck')!.webhooks[0].namespaceSelector.matchExpressions[0].values, ['lameduck-system', 'kube-system'])

  const custom = await rendered('image.repository=registry.example.com/lameduck', 'image.digest=sha256:' + 'a'.repeat(64), 'image.pullPolicy=Always',
    'image.pullSecrets[0].name=regcred', 'replicas=3', 'resources.limits.memory=300Mi', 'failurePolicy=Fail', 'defaults.sleep=20s', 'defaults.shutdownBudget=25s',
    'defaults.maxSleep=2m', 'defaults.maxGrace=5m', 'defaults.handler=exec', 'defaults.advice=false', 'excludedNamespaces={kube-system,istio-system}',
    'nodeSelector.pool=system', 'tolerations[0].key=dedicated', 'tolerations[0].operator=Exists', 'priorityClassName=high', 'podDisruptionBudget.minAvailable=2')
  const pod = custom.get('Deployment/lameduck')!.spec.template.spec
  t.equal(container(custom).image, `registry.example.com/lameduck@sha256:${'a'.repeat(64)}`, 'by digest')
  t.equal(container(custom).imagePullPolicy, 'Always')
  t.same(pod.imagePullSecrets, [{ name: 'regcred' }])
  t.equal(custom.get('Deployment/lameduck')!.spec.replicas, 3)
  t.equal(container(custom).resources.limits.memory, '300Mi')
  t.same(custom.get('MutatingWebhookConfiguration/lameduck')!.webhooks.map((w: { failurePolicy: string }) => w.failurePolicy), ['Fail', 'Ignore'], 'Pods only: workloads stay Ignore')
  t.same(container(custom).args.slice(5), ['--exclude-namespaces=lameduck-system,kube-system,istio-system', '--default-sleep=20s', '--default-shutdown-budget=25s', '--max-sleep=2m', '--max-grace=5m', '--default-handler=exec', '--no-advice', '--drain-delay=5s'])
  t.same(custom.get('MutatingWebhookConfiguration/lameduck')!.webhooks[1].namespaceSelector.matchExpressions[0].values, ['lameduck-system', 'kube-system', 'istio-system'])
  t.same(pod.nodeSelector, { pool: 'system' })
  t.same(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }])
  t.equal(pod.priorityClassName, 'high')
  t.equal(custom.get('PodDisruptionBudget/lameduck')!.spec.minAvailable, 2)
  t.equal((await rendered('podDisruptionBudget.enabled=false')).has('PodDisruptionBudget/lameduck'), false)
  t.equal(container(await rendered('image.tag=dev')).image, 'lameduck:dev')

  const certManager = await rendered('certificates.source=cert-manager')
  t.ok(certManager.has('Certificate/lameduck-serving') && certManager.has('Issuer/lameduck-ca'))
  t.equal(certManager.get('MutatingWebhookConfiguration/lameduck')!.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'lameduck-system/lameduck-serving')
  t.same(container(certManager).args.slice(1, 3), ['--tls-cert=/etc/lameduck/tls/tls.crt', '--tls-key=/etc/lameduck/tls/tls.key'])
  t.notOk(['Secret/lameduck-tls', 'Lease/lameduck-renew', 'Role/lameduck-renew', 'ClusterRole/lameduck-renew'].some(key => certManager.has(key)), 'no renewal, no rights for it')
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  const own = await rendered('certificates.source=secret', 'certificates.secretName=my-pair', `certificates.caBundle=${ca}`)
  t.equal(own.get('Deployment/lameduck')!.spec.template.spec.volumes[0].secret.secretName, 'my-pair')
  t.same(own.get('MutatingWebhookConfiguration/lameduck')!.webhooks.map((w: { clientConfig: { caBundle: string } }) => w.clientConfig.caBundle), [Buffer.from(ca).toString('base64'), Buffer.from(ca).toString('base64')])

  const monitored = await rendered('monitoring.podMonitor.enabled=true', 'monitoring.prometheusRule.enabled=true', 'monitoring.prometheusRule.labels.release=kube-prometheus-stack')
  t.ok(monitored.has('PodMonitor/lameduck'))
  t.equal(monitored.get('PrometheusRule/lameduck')!.metadata.labels?.release, 'kube-prometheus-stack')
  t.match(JSON.stringify(monitored.get('PrometheusRule/lameduck')), /\{\{ \$labels\.pod \}\}/, 'Prometheus\'s own templates, left for Prometheus')
  t.notOk(defaults.has('PodMonitor/lameduck') || defaults.has('PrometheusRule/lameduck'), 'off by default')
})

t.test('manifests/ is the chart rendered, and kustomize builds the objects helm template does (Helm\'s labels aside)', async t => {
  for (const [path, content] of await renderManifests()) t.equal(await readFile(join(repoRoot, path), 'utf8'), content, `${path} is current (npm run manifests:render)`)
  const { stdout: built } = await runTool(binaryPath('kubectl'), ['kustomize', join(repoRoot, 'manifests')], childEnv())
  const helm = await runHelm(undefined, ['template', 'lameduck', CHART, '--namespace', 'lameduck-system', '--skip-tests'])
  const objects = (text: string): Obj[] => parseAllDocuments(text).map(doc => doc.toJS() as Obj | null).filter((o): o is Obj => o !== null)
  const byKey = (list: Obj[]): Record<string, Obj> => Object.fromEntries(list.map(o => [`${o.kind}/${o.metadata.name}`, o]))
  const kustomized = byKey(objects(built))
  t.same(kustomized['Namespace/lameduck-system']?.metadata.labels, { 'app.kubernetes.io/name': 'lameduck', 'pod-security.kubernetes.io/enforce': 'restricted' }, 'the Namespace, which Helm leaves to --create-namespace')
  delete kustomized['Namespace/lameduck-system']
  t.same(kustomized, byKey(objects(withoutHelmLabels(helm.stdout))))
  t.same(objects(built).slice(0, 2).map(o => o.kind), ['MutatingWebhookConfiguration', 'Namespace'], 'kubectl delete -k removes the webhook first')
  t.equal(await readFile(join(repoRoot, 'manifests/install.yaml'), 'utf8').then(text => objects(text).length), objects(built).length, 'install.yaml: the same objects in one file')
})
