import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inClusterAccess, tokenFile, TOKEN_REREAD_MS } from '../../../src/kube/access.js'

t.test('a token file is re-read once a minute, so a rotated token is used', async t => {
  const dir = t.testdir({ token: 'first\n' })
  let now = 0
  const headers = tokenFile(join(dir, 'token'), () => now)
  t.same(await headers(), { authorization: 'Bearer first' })
  await writeFile(join(dir, 'token'), 'second')
  now = TOKEN_REREAD_MS - 1
  t.same(await headers(), { authorization: 'Bearer first' }, 'cached within the minute')
  now = TOKEN_REREAD_MS
  t.same(await headers(), { authorization: 'Bearer second' }, 'the kubelet\'s new token')
  await t.rejects(tokenFile(join(dir, 'absent'))(), { message: new RegExp(`^cannot read the service account token ${join(dir, 'absent')}: ENOENT`) })
})

t.test('in a Pod: the service\'s address (IPv6 in brackets), the CA and the token', async t => {
  const dir = t.testdir({ 'ca.crt': 'CA', token: 'tok' })
  const v4 = await inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)
  t.equal(v4.server, 'https://10.96.0.1:443')
  t.same(v4.tls, { ca: Buffer.from('CA'), rejectUnauthorized: true })
  t.same(await v4.headers(), { authorization: 'Bearer tok' })
  t.equal((await inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, dir)).server, 'https://[fd00::1]:6443')
})

t.test('not in a Pod, or its files missing: an error that says which', async t => {
  const dir = t.testdir({ 'ca.crt': 'CA' })
  await t.rejects(inClusterAccess({}, dir), { message: 'not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set' })
  await t.rejects(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '' }, dir), { message: /^not in a cluster/ })
  await t.rejects(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }, dir), { message: /^cannot read the service account token / })
  await t.rejects(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }, join(dir, 'none')), { message: /^cannot read the service account CA .*ca\.crt: ENOENT/ })
})
