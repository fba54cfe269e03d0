import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readKubeconfig } from '../../../src/kube/kubeconfig.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')

async function write (t: Test, text: string): Promise<string> {
  const dir = t.testdir({ 'ca.pem': 'CAFILE', certs: { 'client.crt': 'CERTFILE', 'client.key': 'KEYFILE' }, token: 'from-file\n' })
  const file = join(dir, 'config')
  await writeFile(file, text)
  return file
}

const config = (cluster: string, user: string, extra = ''): string => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: ${cluster}
users:
- name: u
  user: ${user}
contexts:
- name: main
  context: {cluster: c, user: u}
- name: anonymous
  context: {cluster: c}
${extra}current-context: main
`

async function access (t: Test, text: string, context?: string): Promise<Awaited<ReturnType<typeof readKubeconfig>>> {
  return await readKubeconfig(await write(t, text), context)
}

t.test('inline CA data and a token', async t => {
  const read = await access(t, config(`{server: "https://k.example:6443/", certificate-authority-data: ${b64('CA')}}`, '{token: abc}'))
  if (!('access' in read)) throw new Error('unsupported')
  t.equal(read.access.server, 'https://k.example:6443', 'a trailing slash dropped')
  t.same(read.access.tls, { ca: Buffer.from('CA'), cert: undefined, key: undefined, rejectUnauthorized: true, servername: undefined })
  t.same(await read.access.headers(), { authorization: 'Bearer abc' })
})

t.test('files relative to the kubeconfig, a client certificate, tls-server-name, a token file', async t => {
  const read = await access(t, config('{server: "https://k:1", certificate-authority: ca.pem, tls-server-name: api.internal}', '{client-certificate: certs/client.crt, client-key: certs/client.key, tokenFile: token}'))
  if (!('access' in read)) throw new Error('unsupported')
  t.same(read.access.tls, { ca: Buffer.from('CAFILE'), cert: Buffer.from('CERTFILE'), key: Buffer.from('KEYFILE'), rejectUnauthorized: true, servername: 'api.internal' })
  t.same(await read.access.headers(), { authorization: 'Bearer from-file' })
})

t.test('inline client certificate and key, insecure-skip-tls-verify, basic auth, no user', async t => {
  const read = await access(t, config('{server: "https://k:1", insecure-skip-tls-verify: true}', `{client-certificate-data: ${b64('C')}, client-key-data: ${b64('K')}, username: ann, password: pw}`))
  if (!('access' in read)) throw new Error('unsupported')
  t.same(read.access.tls, { ca: undefined, cert: Buffer.from('C'), key: Buffer.from('K'), rejectUnauthorized: false, servername: undefined })
  t.same(await read.access.headers(), { authorization: `Basic ${b64('ann:pw')}` })
  const noPassword = await access(t, config('{server: "https://k:1"}', '{username: ann}'))
  if (!('access' in noPassword)) throw new Error('unsupported')
  t.same(await noPassword.access.headers(), { authorization: `Basic ${b64('ann:')}` })
  const anonymous = await access(t, config('{server: "https://k:1"}', '{}'), 'anonymous')
  if (!('access' in anonymous)) throw new Error('unsupported')
  t.same(await anonymous.access.headers(), {}, 'a context without a user')
  const empty = await access(t, config('{server: "https://k:1"}', 'null'))
  if (!('access' in empty)) throw new Error('unsupported')
  t.same(await empty.access.headers(), {}, 'an empty user')
})

t.test('what only client-node reads is named, not guessed at', async t => {
  for (const [user, key] of [['{exec: {command: aws}}', 'exec'], ['{auth-provider: {name: oidc}}', 'auth-provider'], ['{as: admin}', 'as'], ['{as-groups: [a]}', 'as-groups'], ['{as-uid: "1"}', 'as-uid']]) {
    t.same(await access(t, config('{server: "https://k:1"}', user!)), { unsupported: `its user uses ${key!}` }, key!)
  }
  t.same(await access(t, config('{server: "https://k:1", proxy-url: "http://proxy:3128"}', '{token: x}')), { unsupported: 'its cluster uses proxy-url' })
})

t.test('a broken kubeconfig: one line naming the file and what is wrong', async t => {
  const file = await write(t, config('{server: "https://k:1"}', '{token: x}', '- name: lost\n  context: {cluster: nowhere, user: u}\n- name: stranger\n  context: {cluster: c, user: nobody}\n'))
  await t.rejects(readKubeconfig(file, 'absent'), { message: `kubeconfig ${file}: it has no context "absent"` })
  await t.rejects(readKubeconfig(file, 'lost'), { message: `kubeconfig ${file}: it has no cluster "nowhere"` })
  await t.rejects(readKubeconfig(file, 'stranger'), { message: `kubeconfig ${file}: it has no user "nobody"` })
  await t.rejects(access(t, config('{}', '{token: x}')), { message: /: its cluster "c" has no server$/ })
  await t.rejects(access(t, 'apiVersion: v1\nclusters: []\n'), { message: /: it names no current-context$/ })
  await t.rejects(access(t, 'current-context: x\n'), { message: /: it has no context "x"$/ }, 'no contexts at all')
  await t.rejects(access(t, '[]'), { message: /: it names no current-context$/ }, 'not a mapping')
  await t.rejects(access(t, 'clusters: [\n'), { message: /^cannot load kubeconfig .*config: / })
  await t.rejects(readKubeconfig(join(t.testdir({}), 'absent')), { message: /^cannot load kubeconfig .*absent: ENOENT/ })
  await t.rejects(access(t, config('{server: "https://k:1", certificate-authority: missing.pem}', '{token: x}')), { message: /config: ENOENT: .*missing\.pem/ })
})
