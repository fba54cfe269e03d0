import t from 'tap'
import http from 'node:http'
import { pino } from 'pino'
import {
  decideAutoHandler, parseKubeVersion, readClusterChoice, type AutoHandlerInput
} from '../../../src/serve/auto-handler.js'
import type { Handler } from '../../../src/admission/types.js'
import { kubeClientFor } from '../../helpers/kube-client.js'

t.test('parses the version strings clusters report', async t => {
  const cases: Array<[string, { major: number, minor: number } | undefined]> = [
    ['v1.34.2', { major: 1, minor: 34 }],
    ['1.29+', { major: 1, minor: 29 }],
    ['v1.30.0-eks-123', { major: 1, minor: 30 }],
    [' v2.0.1 ', { major: 2, minor: 0 }],
    ['1', undefined],
    ['', undefined],
    ['latest', undefined]
  ]
  for (const [text, expected] of cases) t.same(parseKubeVersion(text), expected, JSON.stringify(text))
})

t.test('auto is sleep only when the server and every kubelet are 1.30 or newer', async t => {
  const cases: Array<[string, AutoHandlerInput, Handler, RegExp]> = [
    ['1.30 exactly', { serverVersion: 'v1.30.0' }, 'sleep', /^sleep: the API server is 1\.30; kubelet versions unknown/],
    ['1.29', { serverVersion: 'v1.29.9' }, 'exec', /^exec: the API server is 1\.29, older than 1\.30$/],
    ['GKE-style minor', { serverVersion: { major: '1', minor: '31+' } }, 'sleep', /1\.31/],
    ['numbers', { serverVersion: { major: 1, minor: 28 } }, 'exec', /1\.28, older/],
    ['a major of 2', { serverVersion: 'v2.0.0' }, 'sleep', /2\.0/],
    ['empty major/minor fall back to gitVersion', { serverVersion: { major: '', minor: '', gitVersion: 'v1.32.1-dirty' } }, 'sleep', /1\.32/],
    ['unreadable, conservatively exec', { serverVersion: { major: '', minor: '' } }, 'exec', /^exec: the API server version .* cannot be read, and exec works on every version$/],
    ['unreadable string', { serverVersion: 'dev' }, 'exec', /"dev" cannot be read/],
    ['new kubelets', { serverVersion: 'v1.34.0', kubeletVersions: ['v1.34.0', 'v1.30.2'] }, 'sleep', /^sleep: the API server is 1\.34 and every kubelet \(2 node\(s\)\) is 1\.30 or newer$/],
    ['no nodes', { serverVersion: 'v1.34.0', kubeletVersions: [] }, 'sleep', /every kubelet \(0 node/],
    ['one old kubelet', { serverVersion: 'v1.31.0', kubeletVersions: ['v1.31.0', 'v1.29.4', 'v1.29.4'] }, 'exec',
      /^exec: the API server is 1\.31, but 2 node\(s\) run kubelets older than 1\.30: v1\.29\.4$/],
    ['an unreadable kubelet', { serverVersion: 'v1.31.0', kubeletVersions: ['v1.31.0', 'weird'] }, 'exec', /kubelet versions weird cannot be read$/],
    ['a node not reported yet is ignored', { serverVersion: 'v1.31.0', kubeletVersions: ['v1.31.0', ''] }, 'sleep', /\(1 node\(s\)\)/],
    ['an old server wins over new kubelets', { serverVersion: 'v1.29.0', kubeletVersions: ['v1.31.0'] }, 'exec', /older than 1\.30$/]
  ]
  for (const [name, input, handler, describe] of cases) {
    t.equal(decideAutoHandler(input).handler, handler, name)
    t.match(decideAutoHandler(input).describe, describe, name)
  }
})

t.test('a long list of old kubelets is cut short', async t => {
  const kubeletVersions = ['v1.20.0', 'v1.21.0', 'v1.22.0', 'v1.23.0', 'v1.24.0', 'v1.25.0', 'v1.20.0']
  t.match(decideAutoHandler({ serverVersion: 'v1.31.0', kubeletVersions }).describe, /7 node\(s\) .*: v1\.20\.0, v1\.21\.0, v1\.22\.0, v1\.23\.0, v1\.24\.0, …$/)
})

interface FakeCluster { version: object | number, nodes: Array<object[]> | number }

/** A loopback API server answering /version and paged /api/v1/nodes; records the node queries. */
async function cluster (test: Pick<typeof t, 'teardown'>, fake: FakeCluster) {
  const nodeQueries: URLSearchParams[] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    const status = (code: number): void => { json(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code }) }
    if (url.pathname === '/version') {
      if (typeof fake.version === 'number') status(fake.version)
      else json(200, fake.version)
    } else {
      nodeQueries.push(url.searchParams)
      if (typeof fake.nodes === 'number') return status(fake.nodes)
      const page = Number(url.searchParams.get('continue') ?? 0)
      const more = page + 1 < fake.nodes.length ? { continue: String(page + 1) } : {}
      json(200, { kind: 'NodeList', apiVersion: 'v1', metadata: more, items: fake.nodes[page] })
    }
  })
  const kc = await kubeClientFor(test, server)
  return { kc, nodeQueries }
}

const version = (gitVersion: string, major: string, minor: string, extra = {}): object =>
  ({ major, minor, gitVersion, gitCommit: '', gitTreeState: '', buildDate: '', goVersion: '', compiler: '', platform: '', ...extra })
const node = (kubeletVersion?: string): object =>
  ({ metadata: { name: `n-${kubeletVersion}` }, status: kubeletVersion === undefined ? undefined : { nodeInfo: { kubeletVersion } } })

/** A logger whose lines the test can read. */
function recordingLogger () {
  const lines: Array<{ level: number, msg: string }> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number, msg: string }) } })
  return { logger, lines }
}

t.test('reads the server and every page of nodes', async t => {
  const { kc, nodeQueries } = await cluster(t, { version: version('v1.33.1', '1', '33'), nodes: [[node('v1.33.1')], [node('v1.29.0'), node()]] })
  const { logger, lines } = recordingLogger()
  t.equal((await readClusterChoice(kc, logger)).handler, 'exec')
  t.same(nodeQueries.map(q => [q.get('limit'), q.get('continue')]), [['500', null], ['500', '1']], 'paged')
  t.match(lines.at(-2), { level: 30, msg: /^prestop-handler auto means exec: .*kubelets older than 1\.30: v1\.29\.0$/ })
  t.match(lines.at(-1), { level: 30, msg: /^the adaptive pause's program is brought by init-container: the API server \(1\.33\) is older than 1\.35/ })
})

t.test('the adaptive pause comes as an image volume only where every node\'s kubelet and runtime have them', async t => {
  const runtimeNode = (kubeletVersion: string, containerRuntimeVersion: string): object => ({
    status: { nodeInfo: { kubeletVersion, containerRuntimeVersion } }
  })
  const modern = await cluster(t, { version: version('v1.36.1', '1', '36'), nodes: [[runtimeNode('v1.36.1', 'containerd://2.1.4'), runtimeNode('v1.35.0', 'cri-o://1.35.2')]] })
  t.same(await readClusterChoice(modern.kc, pino({ level: 'silent' })), { handler: 'sleep', delivery: 'image-volume' })
  const old = await cluster(t, { version: version('v1.37.2', '1', '37'), nodes: [[runtimeNode('v1.37.2', 'containerd://2.1.4'), runtimeNode('v1.37.2', 'containerd://1.6.20')]] })
  const { logger, lines } = recordingLogger()
  t.same(await readClusterChoice(old.kc, logger), { handler: 'sleep', delivery: 'init-container' }, 'one node on containerd 1.6')
  t.match(lines.at(-1), { msg: /init-container: 1 node\(s\) have no image volumes .*: v1\.37\.2 containerd:\/\/1\.6\.20$/ })
  const unlisted = await cluster(t, { version: version('v1.37.2', '1', '37'), nodes: 403 })
  t.same(await readClusterChoice(unlisted.kc, pino({ level: 'silent' })), { handler: 'sleep', delivery: 'init-container' }, 'nodes not listed')
})

t.test('an emulated version decides over the binary version', async t => {
  const { kc } = await cluster(t, { version: version('v1.33.0', '1', '33', { emulationMajor: '1', emulationMinor: '29' }), nodes: [[]] })
  t.equal((await readClusterChoice(kc, pino({ level: 'silent' }))).handler, 'exec')
})

t.test('not being allowed to list nodes is fine and logged at info; other failures at warn', async t => {
  const cases: Array<[number, number, RegExp]> = [
    [403, 30, /^not allowed to list nodes/],
    [500, 40, /^cannot list nodes/]
  ]
  for (const [code, level, msg] of cases) {
    const { kc } = await cluster(t, { version: version('v1.30.0', '1', '30'), nodes: code })
    const { logger, lines } = recordingLogger()
    t.equal((await readClusterChoice(kc, logger)).handler, 'sleep', `nodes ${code}`)
    t.match(lines[0], { level, msg }, `nodes ${code}`)
    t.match(lines[1], { msg: /kubelet versions unknown/ })
  }
})

t.test('an unreadable /version rejects with a clear message', async t => {
  const { kc } = await cluster(t, { version: 503, nodes: [[]] })
  const message = /^cannot read the API server version \(for prestop-handler auto\): /
  await t.rejects(readClusterChoice(kc, pino({ level: 'silent' })), { message })
})
