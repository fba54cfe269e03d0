// The local control plane itself: a real API server of the pinned release, a Deployment that
// becomes Pods (Pending: there is no kubelet), namespace deletion, and a stop that leaves nothing.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensureBinaries, startCluster, type Cluster } from '../../control-plane/cluster.js'
import { createNamespace } from '../../control-plane/namespaces.js'
import { isRunning } from '../../control-plane/processes.js'

// A first build takes 15–25 min on 2 cores; after that a cluster starts in seconds.
t.setTimeout(45 * 60_000)
await ensureBinaries({ log: (line) => { t.comment(line) } })
t.setTimeout(180_000)

async function until<T> (what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

async function kubectlJson (cluster: Cluster, args: string[]): Promise<unknown> {
  const result = await cluster.kubectl([...args, '-o', 'json'])
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

t.test('a started cluster serves the pinned release and runs Deployments to Pending Pods', async t => {
  const started = Date.now()
  const cluster = await startCluster({ log: (line) => { t.comment(line) } })
  t.comment(`cluster started in ${Date.now() - started} ms`)
  t.teardown(() => cluster.stop())
  t.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.equal(cluster.pids.length, 3)

  const version = await kubectlJson(cluster, ['version']) as { clientVersion: { gitVersion: string }, serverVersion: { gitVersion: string, minor: string } }
  t.equal(version.serverVersion.gitVersion, cluster.version, 'the API server reports the release')
  t.equal(version.clientVersion.gitVersion, cluster.version, 'kubectl reports the release')
  t.ok(Number.parseInt(version.serverVersion.minor, 10) >= 34, 'Kubernetes 1.34 or newer')

  await createNamespace(cluster, 'shop', { team: 'checkout' })
  const pod = await cluster.kubectl(['run', 'single', '--image=registry.k8s.io/pause:3.10', '-n', 'shop'])
  t.equal(pod.code, 0, `a Pod can be created at once in a new namespace: ${pod.stderr}`)
  const created = await cluster.kubectl(['create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=2', '-n', 'shop'])
  t.equal(created.code, 0, created.stderr)
  const pods = await until('two Pods', async () => {
    const list = await kubectlJson(cluster, ['get', 'pods', '-n', 'shop', '-l', 'app=web']) as { items: Array<{ status: { phase: string } }> }
    return list.items.length === 2 ? list.items : undefined
  })
  t.same(pods.map((pod) => pod.status.phase), ['Pending', 'Pending'], 'no kubelet: Pods stay Pending')

  t.equal((await cluster.kubectl(['delete', 'namespace', 'shop', '--wait=false'])).code, 0)
  await until('the namespace to be gone', async () => {
    const result = await cluster.kubectl(['get', 'namespace', 'shop'])
    return result.code !== 0 && /NotFound/.test(result.stderr) ? true : undefined
  })
  t.pass('namespace deletion completes')

  await cluster.stop()
  t.notOk(cluster.pids.some(isRunning), 'stop() leaves no process behind')
})

t.test('refuses to wipe a directory it did not make', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-not-a-cluster-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'precious.txt'), 'keep me')
  await t.rejects(startCluster({ dir }), /refusing to wipe/)
})
