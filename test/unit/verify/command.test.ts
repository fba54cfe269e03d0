import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'
import { failure, fakeApiServer, kubeconfigYaml, type ApiAnswer, type ApiRequest } from '../../helpers/api-server.js'

const mutatedPod = {
  kind: 'Pod',
  metadata: { annotations: { 'lameduck.dev/injected': 'sleep=15s grace=30s handler=sleep containers=probe' } },
  spec: {
    terminationGracePeriodSeconds: 30,
    containers: [{ name: 'probe', lifecycle: { preStop: { sleep: { seconds: 15 } } } }]
  }
}
const plainPod = { kind: 'Pod', spec: { containers: [{ name: 'probe' }] } }
const created = (pod: unknown): ApiAnswer => ({ status: 201, body: pod })
const optedIn: ApiAnswer = { status: 200, body: { metadata: { labels: { 'lameduck.dev/inject': 'enabled' } } } }

function io (): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  const stdout = (s: string): void => { captured.out += s }
  return Object.assign(captured, { stdout, stderr: (s: string) => { captured.err += s }, env: {} })
}

/** A fake API server with `handler`, and a kubeconfig for it (its current context). */
async function cluster (t: Test, handler: (r: ApiRequest) => ApiAnswer):
Promise<{ kubeconfig: string, requests: ApiRequest[] }> {
  const { url, requests } = await fakeApiServer(t, handler)
  const kubeconfig = join(t.testdir({}), 'kubeconfig')
  await writeFile(kubeconfig, kubeconfigYaml(url))
  return { kubeconfig, requests }
}

t.test('a mutated dry run: what Pods get, exit 0; nothing is created (dryRun=All)', async t => {
  const { kubeconfig, requests } = await cluster(t, () => ({ status: 201, body: mutatedPod }))
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', kubeconfig], out), 0)
  t.equal(out.out, [
    'Pods created in namespace shop now are mutated by lameduck (a server-side dry run of a Pod):',
    '  preStop   sleep 15s (the native sleep action)',
    '  grace     terminationGracePeriodSeconds 30',
    '  marker    lameduck.dev/injected: sleep=15s grace=30s handler=sleep containers=probe', ''
  ].join('\n'))
  const body = { kind: 'Pod', spec: { containers: [{ name: 'probe' }] } }
  t.match(requests, [{ method: 'POST', url: '/api/v1/namespaces/shop/pods?dryRun=All', body }])
  t.equal(requests.length, 1)
})

t.test('not mutated: exit 1, with the reasons that could be read', async t => {
  const { kubeconfig } = await cluster(t, ({ method, url }) => {
    if (method === 'POST') return { status: 201, body: plainPod }
    const namespace = { kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'x' } } }
    if (url === '/api/v1/namespaces/shop') return { status: 200, body: namespace }
    return { status: 200, body: { kind: 'MutatingWebhookConfiguration', webhooks: [{ clientConfig: {} }] } }
  })
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', kubeconfig], out), 1)
  t.equal(out.out, [
    'Pods created in namespace shop now are NOT mutated by lameduck:',
    '  the namespace is not opted in: kubectl label namespace shop lameduck.dev/inject=enabled',
    '  MutatingWebhookConfiguration lameduck has no caBundle yet: lameduck\'s replicas have not made their certificates (see their Pods and logs)', ''
  ].join('\n'))
})

t.test('refused, a missing namespace or webhook configuration, reads that are forbidden', async t => {
  const { kubeconfig } = await cluster(t, ({ method, url }) => {
    if (method === 'POST') return failure(500, 'Internal error occurred: failed calling webhook "pods.lameduck.dev"')
    return url.includes('namespaces') ? failure(404, 'not found') : failure(403, 'forbidden')
  })
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'gone', '--kubeconfig', kubeconfig], out), 1)
  const refused = /^ {2}the API server refused it: a dry-run Pod in namespace gone: the API server answered 500: Internal error occurred: failed calling webhook "pods.lameduck.dev"$/m
  t.match(out.out, refused)
  t.match(out.out, /^ {2}namespace gone does not exist$/m)
  t.notMatch(out.out, /MutatingWebhookConfiguration/, 'a forbidden read says nothing')
  const absent = await cluster(t, ({ method, url }) =>
    method === 'POST' ? created(plainPod) : url.includes('mutating') ? failure(404, 'nope') : optedIn)
  const out2 = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', absent.kubeconfig], out2), 1)
  t.match(out2.out, /MutatingWebhookConfiguration lameduck does not exist: is lameduck installed\?/)
})

t.test('opted in, with a caBundle, still unchanged: the API server gave up on lameduck', async t => {
  const bundled = { status: 200, body: { webhooks: [{ clientConfig: { caBundle: 'QQ==' } }] } }
  const opted = await cluster(t, ({ method, url }) =>
    method === 'POST' ? created(plainPod) : url.includes('mutating') ? bundled : optedIn)
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', opted.kubeconfig], out), 1)
  t.match(out.out, /^ {2}the API server got no answer from lameduck and let the Pod through/m)
  const bare = await cluster(t, ({ method }) => method === 'POST' ? created(plainPod) : { status: 200, body: {} })
  const out2 = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', bare.kubeconfig], out2), 1)
  t.match(out2.out, /not opted in/, 'a namespace without labels')
  t.match(out2.out, /has no caBundle yet/, 'a configuration without webhooks')
})

t.test('--wait: tries again until the Pod comes back mutated (right after an install)', async t => {
  let calls = 0
  const { kubeconfig } = await cluster(t, ({ method }) =>
    created(method === 'POST' && ++calls >= 2 ? mutatedPod : plainPod))
  const out = io()
  t.equal(await runCli(['verify', '--namespace', 'shop', '--kubeconfig', kubeconfig, '--wait', '30s'], out), 0)
  t.equal(calls, 2)
  t.match(out.out, /now are mutated/)
})

t.test('bad flags: one line, exit 2; --help', async t => {
  const cases = [
    [['verify'], /^lameduck verify: --namespace is required\n$/],
    [['verify', '--namespace', 'x', '--wait', 'soon'], /^lameduck verify: --wait: /],
    [['verify', '--bogus'], /Unknown option '--bogus'/]
  ] as const
  for (const [argv, message] of cases) {
    const out = io()
    t.equal(await runCli([...argv], out), 2, argv.join(' '))
    t.match(out.err, message)
  }
  const help = io()
  t.equal(await runCli(['verify', '--help'], help), 0)
  t.match(help.out, /^Usage: lameduck verify --namespace NS/)
})
