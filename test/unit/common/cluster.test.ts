import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiException } from '@kubernetes/client-node'
import { explain, loadKubeConfig } from '../../../src/common/cluster.js'
import { kubeconfigYaml } from '../../helpers/api-server.js'

t.test('explain: client-node\'s fallback server means no kubeconfig was found', async t => {
  t.equal(explain(new Error('connect ECONNREFUSED'), 'reading x', 'http://localhost:8080').message,
    'reading x: cannot reach the API server at http://localhost:8080 (no kubeconfig found: give --kubeconfig, or set KUBECONFIG): connect ECONNREFUSED')
  t.equal(explain(new ApiException(418, 'teapot', undefined, {}), 'reading x', 'https://s').message, 'reading x: the API server answered 418')
  t.equal(explain(new ApiException(403, 'forbidden', JSON.stringify({ kind: 'Status', message: 'pods is forbidden' }), {}), 'reading x', 'https://s').message, 'reading x: forbidden (403): pods is forbidden', 'a Status: its message')
  t.equal(explain(new ApiException(401, 'unauthorized', '', {}), 'reading x', 'https://s').message, 'reading x: the API server did not accept the credentials (401)', 'an empty body says nothing more')
  t.equal(explain(new ApiException(502, 'bad gateway', '<html>Bad Gateway</html>\nfrom a proxy', {}), 'reading x', 'https://s').message, 'reading x: the API server answered 502: <html>Bad Gateway</html>', 'not JSON: its first line')
  t.equal(explain(new ApiException(500, 'oops', '{"kind":"Other"}', {}), 'reading x', 'https://s').message, 'reading x: the API server answered 500: {"kind":"Other"}', 'JSON without a message: as text')
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:1')
  t.equal(explain(new Error('fetch failed', { cause: refused }), 'reading x', 'https://s').message, 'reading x: cannot reach the API server at https://s: fetch failed: connect ECONNREFUSED 127.0.0.1:1', 'undici\'s reason is its cause')
  t.equal(explain(new Error('request failed: connect ECONNREFUSED 127.0.0.1:1', { cause: refused }), 'reading x', 'https://s').message, 'reading x: cannot reach the API server at https://s: request failed: connect ECONNREFUSED 127.0.0.1:1', 'said once')
  t.equal(explain(new Error('fetch failed', { cause: 'text' }), 'reading x', 'https://s').message, 'reading x: cannot reach the API server at https://s: fetch failed')
})

t.test('loadKubeConfig: a file at its current or a named context; one line for what is wrong', async t => {
  const dir = t.testdir({})
  const file = join(dir, 'kubeconfig')
  await writeFile(file, kubeconfigYaml('https://127.0.0.1:1', '- name: other\n  context: {cluster: elsewhere, user: admin}\n'))
  t.equal(loadKubeConfig({ kubeconfig: file, context: undefined }).getCurrentCluster()?.server, 'https://127.0.0.1:1')
  t.equal(loadKubeConfig({ kubeconfig: file, context: 'test' }).getCurrentContext(), 'test')
  t.throws(() => loadKubeConfig({ kubeconfig: join(dir, 'absent'), context: undefined }), { message: /^cannot load kubeconfig .*absent: ENOENT/ })
  t.throws(() => loadKubeConfig({ kubeconfig: file, context: 'nope' }), { message: 'the kubeconfig has no context "nope"' })
  t.throws(() => loadKubeConfig({ kubeconfig: file, context: 'other' }), { message: 'the kubeconfig names no current cluster' })
})
