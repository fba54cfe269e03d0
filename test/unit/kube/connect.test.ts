// Where serve finds its cluster, as client-node's loadFromDefault does, and the way out through
// client-node for kubeconfigs the small client does not read: an exec plugin (a script here that
// prints an ExecCredential, as `aws eks get-token` does) against a loopback HTTPS server.
import t, { type Test } from 'tap'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connectKube, resolveAccess } from '../../../src/kube/connect.js'
import { clientNodeAccess } from '../../../src/kube/client-node.js'
import { NOWHERE } from '../../../src/kube/errors.js'
import { fakeApiServer, kubeconfigYaml, pair } from '../../helpers/api-server.js'

const ok = { status: 200, body: { major: '1', minor: '37' } }

/** A kubeconfig for `server` whose user runs an exec plugin that hands out `token`. */
async function execKubeconfig (t: Test, server: string, token: string, user = ''): Promise<string> {
  const dir = t.testdir({})
  const plugin = join(dir, 'get-token')
  await writeFile(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`)
  await chmod(plugin, 0o755)
  const file = join(dir, 'kubeconfig')
  await writeFile(file, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(pair.cert).toString('base64')}}
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never}
${user}contexts:
- name: main
  context: {cluster: c, user: u}
current-context: main
`)
  return file
}

t.test('an exec plugin: client-node runs it, the small client sends the requests with its token', async t => {
  const { url, requests } = await fakeApiServer(t, () => ok)
  const reasons: string[] = []
  const file = await execKubeconfig(t, url, 'from-plugin')
  const kube = await connectKube({ kubeconfig: file }, { onFallback: reason => reasons.push(reason) })
  t.teardown(() => kube.close())
  t.same(await kube.request('GET', '/version'), ok.body)
  t.equal(requests[0]?.authorization, 'Bearer from-plugin')
  t.same(reasons, [`kubeconfig ${file}: its user uses exec`])
  t.equal((await resolveAccess({ kubeconfig: file })).server, url, 'told no one')
})

t.test('client-node\'s access: basic auth and impersonation headers, a named context, its errors', async t => {
  const dir = t.testdir({})
  const file = join(dir, 'kubeconfig')
  await writeFile(file, kubeconfigYaml('https://127.0.0.1:1', '- name: other\n  context: {cluster: elsewhere, user: admin}\n').replace('user: {token: secret-token}', 'user: {username: ann, password: pw, as: bob}'))
  const access = await clientNodeAccess({ kubeconfig: file, context: 'test' })
  t.equal(access.server, 'https://127.0.0.1:1')
  t.same(await access.headers(), { 'impersonate-user': 'bob', authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` })
  t.equal(access.tls.rejectUnauthorized, true)
  await t.rejects(clientNodeAccess({ kubeconfig: file, context: 'nope' }),
    { message: `kubeconfig ${file}: it has no context "nope"` })
  await t.rejects(clientNodeAccess({ kubeconfig: file, context: 'other' }),
    { message: `kubeconfig ${file}: it names no current cluster` })
  await t.rejects(clientNodeAccess({ kubeconfig: join(dir, 'absent') }), { message: new RegExp(`^cannot load kubeconfig ${join(dir, 'absent')}: ENOENT`) })
  const saved = process.env.KUBECONFIG
  t.teardown(() => { if (saved === undefined) delete process.env.KUBECONFIG; else process.env.KUBECONFIG = saved })
  process.env.KUBECONFIG = file
  t.equal((await clientNodeAccess({ kubeconfig: undefined })).server, 'https://127.0.0.1:1', 'its default loading')
  process.env.KUBECONFIG = join(dir, 'absent')
  await t.rejects(clientNodeAccess({ kubeconfig: undefined }), { message: /^cannot load kubeconfig \(default\): / })
})

t.test('the default search: KUBECONFIG (one file, or several for client-node to merge), ~/.kube/config, the Pod, nowhere', async t => {
  const dir = t.testdir({ sa: { token: 'pod-token', 'ca.crt': 'CA' }, empty: {}, home: {} })
  const one = join(dir, 'one')
  const two = join(dir, 'two')
  await writeFile(one, kubeconfigYaml('https://one:1'))
  await writeFile(two, kubeconfigYaml('https://two:2').replace(/name: (test|admin)/g, 'name: second').replace('current-context: second', ''))
  const none = join(dir, 'empty')
  const reasons: string[] = []
  const onFallback = (reason: string): number => reasons.push(reason)
  t.equal((await resolveAccess({ kubeconfig: undefined }, { env: { KUBECONFIG: one, HOME: dir }, serviceAccountDir: none })).server, 'https://one:1')
  // client-node reads the process's own KUBECONFIG.
  const saved = process.env.KUBECONFIG
  t.teardown(() => { if (saved === undefined) delete process.env.KUBECONFIG; else process.env.KUBECONFIG = saved })
  process.env.KUBECONFIG = `${one}:${two}`
  t.equal((await resolveAccess({ kubeconfig: undefined }, { serviceAccountDir: none, onFallback })).server, 'https://one:1')
  t.same(reasons, ['KUBECONFIG names several files, to be merged'])
  await mkdir(join(dir, 'home', '.kube'))
  await writeFile(join(dir, 'home', '.kube', 'config'), kubeconfigYaml('https://home:3'))
  t.equal((await resolveAccess({ kubeconfig: undefined }, { env: { KUBECONFIG: '', HOME: join(dir, 'home') }, serviceAccountDir: none })).server, 'https://home:3')
  const pod = await resolveAccess({ kubeconfig: undefined }, { env: { HOME: join(dir, 'empty'), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: join(dir, 'sa') })
  t.equal(pod.server, 'https://10.0.0.1:443')
  t.same(await pod.headers(), { authorization: 'Bearer pod-token' })
  const nowhere = await resolveAccess({ kubeconfig: undefined }, { env: { HOME: '' }, serviceAccountDir: none })
  t.equal(nowhere.server, NOWHERE)
  t.same(await nowhere.headers(), {})
  await t.rejects(resolveAccess({ kubeconfig: undefined, context: 'x' }, { env: {}, serviceAccountDir: none }),
    { message: 'no kubeconfig found, so no context "x"' })
  t.equal((await resolveAccess({ kubeconfig: one })).server, 'https://one:1', 'the process\'s environment by default')
})
