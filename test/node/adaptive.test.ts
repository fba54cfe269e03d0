// The adaptive preStop handler on a real node (kubelet, containerd, runc), with lameduck serve
// started from source with --default-handler adaptive and --pause-image naming the Dockerfile's
// small `pause` image, in a namespace that enforces Pod Security `restricted`. Three Pods of an app
// whose image has no shell (agnhost: one binary and its libraries), deleted at once:
//   - no traffic and no probes: the pause lasts one quiet period (3 s), the longer of it and the minimum;
//   - probes alone (readiness over HTTP and liveness over TCP, each every second): the same, they do
//     not keep it waiting;
//   - a kept-alive client that never stops: cut at the maximum (20 s), its last request seen at the end.
// Each Pod's pause is read where a user reads it, the termination message in the Pod's last status,
// and checked against the container's own end as the kubelet reports it.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node'
import { Pool } from 'undici'
import { pauseLayout, PAUSE_IMAGE } from '../../control-plane/images/lameduck-image.js'
import { pushImage } from '../../control-plane/images/push.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { kubectl, namespace, OPTED_IN, registerWebhook, startWebhook, until } from '../helpers/e2e.js'
import { nodeClusterFor } from '../helpers/node.js'

const NS = 'adaptive'
const QUIET_MS = 3000
const MAX_MS = 20_000

const cluster = await nodeClusterFor(t, 900_000)
// The Dockerfile's `pause` image, in the nodes' registry as lameduck's own is (nodeClusterFor).
await pushImage(pauseLayout, PAUSE_IMAGE, cluster.registry!)
const webhook = await startWebhook(t, cluster, { args: ['--default-handler', 'adaptive', '--pause-image', PAUSE_IMAGE] })
await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
const enforce = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' }
await namespace(cluster, NS, { ...OPTED_IN, ...enforce }, {
  'lameduck.dev/prestop-sleep': '2s',
  'lameduck.dev/adaptive-max': `${MAX_MS / 1000}s`,
  'lameduck.dev/adaptive-quiet': `${QUIET_MS / 1000}s`,
  'lameduck.dev/shutdown-budget': '2s'
})

const restricted = {
  allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' }
}
const probes = {
  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
  livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
}
function app (name: string, extra: object = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      containers: [{
        name: 'app',
        image: AGNHOST_IMAGE,
        args: ['netexec', '--http-port=8080'],
        ports: [{ containerPort: 8080 }],
        securityContext: restricted,
        ...extra
      }]
    }
  }
}

/** The pause as the program reported it, and as the kubelet saw the container end. */
interface Seen { report: { pausedMs: number, endedBy: string, lastRequestMs?: number }, endedMs: number }

t.test('adaptive Pods in a restricted namespace: each pause ends as its traffic does', async t => {
  // Admitted under `restricted`: what lameduck adds passes Pod Security, or the create fails.
  const list = { apiVersion: 'v1', kind: 'List', items: [app('quiet'), app('probed', probes), app('busy')] }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(list))
  const busyPod = async (): Promise<V1Pod> => JSON.parse((await kubectl(cluster, ['get', 'pod', 'busy', '-n', NS, '-o', 'json'])).stdout) as V1Pod
  const stored = await busyPod()
  t.equal(stored.spec?.initContainers?.[0]?.image, PAUSE_IMAGE, '--pause-image by its effect')
  t.match(stored.metadata?.annotations?.['lameduck.dev/injected'], /^sleep=2s grace=30s handler=adaptive containers=app max=20s quiet=3s$/,
    '--default-handler adaptive by its effect (grace: max + budget, 22, under the default 30)')
  await kubectl(cluster, ['wait', '-n', NS, '--for=condition=Ready', 'pod/quiet', 'pod/probed', 'pod/busy', '--timeout=120s'])
  const ip = (await busyPod()).status!.podIP!

  const config = new KubeConfig()
  config.loadFromFile(cluster.kubeconfigPath)
  const core = config.makeApiClient(CoreV1Api)
  const listPods = (): ReturnType<typeof core.listNamespacedPod> => core.listNamespacedPod({ namespace: NS })
  const informer = makeInformer(config, `/api/v1/namespaces/${NS}/pods`, listPods)
  const seen = new Map<string, Seen>()
  let deletedAt = 0
  const record = (pod: V1Pod): void => {
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated
    if (terminated?.message === undefined || seen.has(pod.metadata!.name!)) return
    const report = JSON.parse(terminated.message) as Seen['report']
    seen.set(pod.metadata!.name!, { report, endedMs: new Date(terminated.finishedAt!).getTime() - deletedAt })
  }
  informer.on('update', record)
  informer.on('delete', record)
  await informer.start()
  t.teardown(() => informer.stop())

  // A kept-alive client from this machine, a request every 100 ms, until the Pod is gone.
  const pool = new Pool(`http://${ip}:8080`, { connections: 1 })
  let sending = true
  const traffic = (async () => {
    while (sending) {
      await pool.request({ path: '/hostname', method: 'GET' }).then(r => r.body.dump(), () => undefined)
      await sleep(100)
    }
  })()
  t.teardown(async () => { sending = false; await traffic; await pool.destroy() })
  await sleep(2000)
  deletedAt = Date.now()
  await kubectl(cluster, ['delete', 'pod', '-n', NS, 'quiet', 'probed', 'busy', '--wait=false'])
  const gone = async (): Promise<true | undefined> =>
    (await kubectl(cluster, ['get', 'pods', '-n', NS, '-o', 'name'])).stdout.trim() === '' ? true : undefined
  await until('the three Pods to be gone', gone, 90_000)
  sending = false
  t.comment(JSON.stringify(Object.fromEntries(seen)))

  for (const name of ['quiet', 'probed']) {
    const { report, endedMs } = seen.get(name)!
    t.equal(report.endedBy, 'quiet', `${name}: ended by the quiet period`)
    t.ok(report.pausedMs >= QUIET_MS && report.pausedMs < QUIET_MS + 2000,
      `${name}: paused ${report.pausedMs} ms, one quiet period (${QUIET_MS} ms), far from the maximum`)
    t.equal(report.lastRequestMs, undefined, `${name}: no client traffic seen`)
    // finishedAt has whole seconds; agnhost exits at once on SIGTERM.
    t.ok(Math.abs(endedMs - report.pausedMs) < 2500, `${name}: the container ended ${endedMs} ms after the deletion`)
  }
  const busy = seen.get('busy')!
  t.equal(busy.report.endedBy, 'maximum', 'busy: cut at the maximum')
  const { report, endedMs } = busy
  t.ok(report.pausedMs >= MAX_MS && report.pausedMs < MAX_MS + 1000, `busy: paused ${report.pausedMs} ms`)
  t.ok(report.lastRequestMs! > MAX_MS - 1000, `busy: the last request seen ${report.lastRequestMs} ms into the pause`)
  t.ok(Math.abs(endedMs - report.pausedMs) < 2500, `busy: the container ended ${endedMs} ms after the deletion`)
})
