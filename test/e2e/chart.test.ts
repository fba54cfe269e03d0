// The chart with the real Helm (.lameduck/bin/helm, built from its Go module), no cluster: `helm
// lint --strict` is clean and fails on a broken template; values.schema.json makes `helm install`
// fail on an unknown key or a wrong value, naming it; each value has its effect on what is
// rendered; manifests/ is the chart rendered (`npm run manifests:render`) and kustomize builds the
// same objects as `helm template`, Helm's own labels aside. The install itself, on a real node:
// test/node/node.test.ts.
import t, { type Test } from 'tap'
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
  const args = ['install', 'lameduck', CHART, '--namespace', 'lameduck-system', '--dry-run=client']
  return await runHelm(undefined, [...args, ...set.flatMap(value => ['--set', value])])
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests, read field by field below
type Manifest = Record<string, any>
type Labels = Record<string, string>
type Metadata = { name: string, namespace?: string, labels?: Labels, annotations?: Labels }
type Obj = { kind: string, metadata: Metadata } & Manifest

const parsed = (text: string): Obj[] =>
  parseAllDocuments(text).map(doc => doc.toJS() as Obj | null).filter((o): o is Obj => o !== null)

/** The objects `helm template` renders with `set`, by `Kind/name`. */
async function rendered (...set: string[]): Promise<Map<string, Obj>> {
  const args = ['template', 'lameduck', CHART, '--namespace', 'lameduck-system', ...set.flatMap(value => ['--set', value])]
  const { code, stdout, stderr } = await runHelm(undefined, args)
  if (code !== 0) throw new Error(stderr)
  return new Map(parsed(stdout).map(o => [`${o.kind}/${o.metadata.name}`, o]))
}

const podSpec = (objects: Map<string, Obj>): Manifest => objects.get('Deployment/lameduck')!.spec.template.spec
const container = (objects: Map<string, Obj>): Manifest => podSpec(objects).containers[0]
const webhooks = (objects: Map<string, Obj>): Manifest[] => objects.get('MutatingWebhookConfiguration/lameduck')!.webhooks
const excluded = (webhook: Manifest): string[] => webhook.namespaceSelector.matchExpressions[0].values

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
    ['defaults.handler=wait', /at '\/defaults\/handler': value must be one of 'auto', 'sleep', 'exec', 'adaptive'/],
    ['adaptive.delivery=copy', /at '\/adaptive\/delivery': value must be one of 'auto', 'init-container', 'image-volume'/],
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
  const accepted = await install('defaults.sleep=20', 'defaults.maxGrace=10m', 'replicas=3')
  t.equal(accepted.code, 0, 'a number of seconds, a duration, a count: accepted')
})

t.test('each value has its effect on what is rendered', async t => {
  const defaults = await rendered()
  t.equal(container(defaults).image, 'lameduck:0.1.0', 'the appVersion as tag')
  const self = ['--tls-secret=lameduck-tls', '--renew-certs', '--renew-validity=8760h']
  t.same(container(defaults).args.slice(1, 4), self, 'self: the Secret, and the renewal')
  t.equal(podSpec(defaults).volumes, undefined, 'no volume: the pair comes through the API server')
  const tls = defaults.get('Secret/lameduck-tls')!
  const metadata = { name: 'lameduck-tls', namespace: 'lameduck-system', labels: tls.metadata.labels }
  t.same(tls, { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque' }, 'shipped empty')
  const configuration = JSON.stringify(defaults.get('MutatingWebhookConfiguration/lameduck'))
  t.notOk(configuration.includes('caBundle'), 'no caBundle for helm upgrade to wipe')
  t.same(excluded(webhooks(defaults)[0]!), ['lameduck-system', 'kube-system'])
  await valuesTakeEffect(t)
  await certificateSources(t)

  const monitored = await rendered('monitoring.podMonitor.enabled=true', 'monitoring.prometheusRule.enabled=true',
    'monitoring.prometheusRule.labels.release=kube-prometheus-stack')
  const rule = monitored.get('PrometheusRule/lameduck')!
  t.ok(monitored.has('PodMonitor/lameduck'))
  t.equal(rule.metadata.labels?.release, 'kube-prometheus-stack')
  t.match(JSON.stringify(rule), /\{\{ \$labels\.pod \}\}/, 'Prometheus\'s own templates, left for Prometheus')
  t.notOk(defaults.has('PodMonitor/lameduck') || defaults.has('PrometheusRule/lameduck'), 'off by default')
})

/** Image, replicas, resources, failurePolicy, the serve defaults, exclusions, scheduling, the PDB. */
async function valuesTakeEffect (t: Test): Promise<void> {
  const digest = `sha256:${'a'.repeat(64)}`
  const custom = await rendered('image.repository=registry.example.com/lameduck', `image.digest=${digest}`, 'image.pullPolicy=Always',
    'image.pullSecrets[0].name=regcred', 'replicas=3', 'resources.limits.memory=300Mi', 'failurePolicy=Fail',
    'defaults.sleep=20s', 'defaults.shutdownBudget=25s', 'defaults.maxSleep=2m', 'defaults.maxGrace=5m', 'defaults.handler=exec',
    'defaults.advice=false', 'excludedNamespaces={kube-system,istio-system}', 'nodeSelector.pool=system',
    'tolerations[0].key=dedicated', 'tolerations[0].operator=Exists', 'priorityClassName=high', 'podDisruptionBudget.minAvailable=2')
  const pod = podSpec(custom)
  t.equal(container(custom).image, `registry.example.com/lameduck@${digest}`, 'by digest')
  t.equal(container(custom).imagePullPolicy, 'Always')
  t.same(pod.imagePullSecrets, [{ name: 'regcred' }])
  t.equal(custom.get('Deployment/lameduck')!.spec.replicas, 3)
  t.equal(container(custom).resources.limits.memory, '300Mi')
  t.same(webhooks(custom).map(w => w.failurePolicy), ['Fail', 'Ignore'], 'Pods only: workloads stay Ignore')
  t.same(container(custom).args.slice(5), ['--exclude-namespaces=lameduck-system,kube-system,istio-system', '--default-sleep=20s',
    '--default-shutdown-budget=25s', '--max-sleep=2m', '--max-grace=5m', '--default-handler=exec',
    `--pause-image=registry.example.com/lameduck@${digest}`, '--pause-delivery=auto', '--no-advice', '--drain-delay=5s'],
    'the adaptive handler\'s program from the image lameduck runs')
  const small = await rendered('defaults.handler=adaptive', 'adaptive.pauseImage=registry.example.com/lameduck-pause:0.1.0',
    'adaptive.delivery=init-container')
  t.same(container(small).args.filter((arg: string) => /^--(default-handler|pause-)/.test(arg)),
    ['--default-handler=adaptive', '--pause-image=registry.example.com/lameduck-pause:0.1.0', '--pause-delivery=init-container'])
  t.same(excluded(webhooks(custom)[1]!), ['lameduck-system', 'kube-system', 'istio-system'])
  t.same(pod.nodeSelector, { pool: 'system' })
  t.same(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }])
  t.equal(pod.priorityClassName, 'high')
  t.equal(custom.get('PodDisruptionBudget/lameduck')!.spec.minAvailable, 2)
  t.equal((await rendered('podDisruptionBudget.enabled=false')).has('PodDisruptionBudget/lameduck'), false)
  t.equal(container(await rendered('image.tag=dev')).image, 'lameduck:dev')
}

/** cert-manager, and a Secret of the user's. */
async function certificateSources (t: Test): Promise<void> {
  const certManager = await rendered('certificates.source=cert-manager')
  t.ok(certManager.has('Certificate/lameduck-serving') && certManager.has('Issuer/lameduck-ca'))
  const annotations = certManager.get('MutatingWebhookConfiguration/lameduck')!.metadata.annotations
  t.equal(annotations?.['cert-manager.io/inject-ca-from'], 'lameduck-system/lameduck-serving')
  const files = ['--tls-cert=/etc/lameduck/tls/tls.crt', '--tls-key=/etc/lameduck/tls/tls.key']
  t.same(container(certManager).args.slice(1, 3), files)
  const renewal = ['Secret/lameduck-tls', 'Lease/lameduck-renew', 'Role/lameduck-renew', 'ClusterRole/lameduck-renew']
  t.notOk(renewal.some(key => certManager.has(key)), 'no renewal, no rights for it')
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  const own = await rendered('certificates.source=secret', 'certificates.secretName=my-pair', `certificates.caBundle=${ca}`)
  t.equal(podSpec(own).volumes[0].secret.secretName, 'my-pair')
  const b64 = Buffer.from(ca).toString('base64')
  t.same(webhooks(own).map(w => w.clientConfig.caBundle), [b64, b64])
}

t.test('manifests/ is the chart rendered, and kustomize builds what helm template does (Helm\'s labels aside)', async t => {
  for (const [path, content] of await renderManifests()) {
    t.equal(await readFile(join(repoRoot, path), 'utf8'), content, `${path} is current (npm run manifests:render)`)
  }
  const { stdout: built } = await runTool(binaryPath('kubectl'), ['kustomize', join(repoRoot, 'manifests')], childEnv())
  const helm = await runHelm(undefined, ['template', 'lameduck', CHART, '--namespace', 'lameduck-system', '--skip-tests'])
  const byKey = (list: Obj[]): Record<string, Obj> => Object.fromEntries(list.map(o => [`${o.kind}/${o.metadata.name}`, o]))
  const kustomized = byKey(parsed(built))
  const namespaceLabels = { 'app.kubernetes.io/name': 'lameduck', 'pod-security.kubernetes.io/enforce': 'restricted' }
  t.same(kustomized['Namespace/lameduck-system']?.metadata.labels, namespaceLabels, 'the Namespace, which Helm leaves to --create-namespace')
  delete kustomized['Namespace/lameduck-system']
  t.same(kustomized, byKey(parsed(withoutHelmLabels(helm.stdout))))
  const first = parsed(built).slice(0, 2).map(o => o.kind)
  t.same(first, ['MutatingWebhookConfiguration', 'Namespace'], 'kubectl delete -k removes the webhook first')
  const installYaml = await readFile(join(repoRoot, 'manifests/install.yaml'), 'utf8')
  t.equal(parsed(installYaml).length, parsed(built).length, 'install.yaml: the same objects in one file')
})
