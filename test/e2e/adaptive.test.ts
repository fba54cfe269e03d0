// The adaptive handler through the real kube-apiserver, in a namespace that enforces Pod Security
// `restricted`: what lameduck adds passes it and the API server's validation, both ways of bringing
// the pause's program (an init container and an emptyDir; an image volume, which the node test's
// containerd 1.6 cannot mount), and `auto` picks the init container on a cluster whose nodes (none
// here) cannot be read. A re-created result comes back unchanged.
import t from 'tap'
import {
  OPTED_IN, clusterFor, createPod, injected, kubectl, namespace, podOf, registerWebhook, startWebhook, until, type Pod
} from '../helpers/e2e.js'

const cluster = await clusterFor(t, 240_000)
const RESTRICTED = {
  ...OPTED_IN, 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest'
}
const secure = {
  allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' }
}
const app = (): Pod => podOf({
  annotations: { 'lameduck.dev/prestop-handler': 'adaptive' },
  containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 8080 }], securityContext: secure }]
})
const volumeOf = (pod: Pod): unknown => (pod.spec.volumes as Array<{ name: string }>).find(v => v.name === 'lameduck-pause')

/** The Pod as the API server stores it (server-side dry run), once the webhook's configuration is loaded. */
async function store (ns: string): Promise<Pod> {
  return await until(`a dry run in ${ns} to be mutated`, async () => {
    const { pod, warnings } = await createPod(cluster, ns, app(), { dryRun: true })
    if (warnings.some(w => /violate/i.test(w))) throw new Error(`Pod Security: ${warnings.join('; ')}`)
    return injected(pod) === undefined ? undefined : pod
  })
}

t.test('auto: the init container and an emptyDir pass restricted', async t => {
  const webhook = await startWebhook(t, cluster)
  await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
  await namespace(cluster, 'auto', RESTRICTED)
  const pod = await store('auto')
  t.match(injected(pod), /handler=adaptive containers=web max=2m quiet=5s$/)
  t.equal(pod.spec.initContainers?.[0]?.name, 'lameduck-pause')
  t.same(volumeOf(pod), { name: 'lameduck-pause', emptyDir: { sizeLimit: '16Mi' } })
  t.match(webhook.log(), /the adaptive pause's program is brought by init-container: no node's kubelet and runtime could be read/)
  const copy = { ...pod, metadata: { generateName: 'again-', annotations: pod.metadata!.annotations! } } as Pod
  const again = await createPod(cluster, 'auto', copy, { dryRun: true })
  t.same(again.pod.spec.initContainers, pod.spec.initContainers, 'created again: the same init container')
  t.same(again.pod.spec.volumes, pod.spec.volumes, 'and the same volumes')
  await kubectl(cluster, ['delete', 'mutatingwebhookconfiguration', 'lameduck'])
})

t.test('--pause-delivery image-volume: the image mounted read-only, no init container, passes restricted', async t => {
  const args = ['--pause-delivery', 'image-volume', '--pause-image', 'registry.example/lameduck-pause:0.1.0']
  const webhook = await startWebhook(t, cluster, { args })
  await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
  await namespace(cluster, 'volume', RESTRICTED)
  const pod = await store('volume')
  t.equal(pod.spec.initContainers, undefined)
  t.same(volumeOf(pod), { name: 'lameduck-pause', image: { reference: 'registry.example/lameduck-pause:0.1.0', pullPolicy: 'IfNotPresent' } })
  const hook = pod.spec.containers[0]!.lifecycle?.preStop as { exec: { command: string[] } }
  t.match(hook.exec.command, ['/lameduck-pause/usr/local/bin/lameduck-pause', 'wait'])
})
