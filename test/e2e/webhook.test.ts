// The webhook through the real kube-apiserver: `lameduck serve` as a child process, registered with
// the shipped configuration (selectors, matchConditions) by URL, fail-closed so that a call that
// went wrong fails a test instead of passing for a skip. What kubectl shows on a dry run, what a
// create stores, what the ReplicaSet controller's Pods get, and which Pods are left alone, both by
// the API server's filters and by lameduck's own checks when those filters are missing.
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import {
  OPTED_IN,
  clusterFor,
  createPod,
  injected,
  kubectl,
  namespace,
  podOf,
  registerWebhook,
  sleepOf,
  startWebhook,
  until,
  untilMutated,
  warningsIn,
  type Pod
} from '../helpers/e2e.js'

const cluster = await clusterFor(t, 240_000)
const webhook = await startWebhook(t, cluster)
await registerWebhook(cluster, webhook, { failurePolicy: 'Fail' })
await namespace(cluster, 'shop', OPTED_IN, { 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' })
await namespace(cluster, 'plain', {}, { 'lameduck.dev/prestop-sleep': '20s' })
const MARKER = 'sleep=20s grace=45s handler=sleep containers=web'
const RAISED = 'lameduck: terminationGracePeriodSeconds raised from 30 to 45 (preStop sleep 20s + shutdown budget 25s)'
// The API server loads a new webhook configuration after a short lag.
await untilMutated(cluster, 'shop', /^sleep=20s/)

const pause = 'registry.k8s.io/pause:3.10'
const untouched = (t: Test, pod: Pod): void => {
  t.equal(injected(pod), undefined, 'no marker')
  t.same(pod.spec.containers.map(c => c.lifecycle), pod.spec.containers.map(() => undefined), 'no lifecycle hook')
  t.equal(pod.spec.terminationGracePeriodSeconds, 30, 'the API server\'s default grace period')
}

t.test('kubectl create --dry-run=server -o yaml shows the injection; apply --dry-run=server prints the warnings', async t => {
  const { stdout, stderr } = await kubectl(cluster, ['create', '--dry-run=server', '-o', 'yaml', '-n', 'shop', '-f', '-'], JSON.stringify(podOf()))
  const pod = parse(stdout) as Pod
  t.same(pod.spec.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 20 } } }, 'a native preStop sleep of the namespace\'s 20s')
  t.equal(pod.spec.terminationGracePeriodSeconds, 45, 'grace = sleep 20 + budget 25')
  t.equal(injected(pod), MARKER)
  t.same(warningsIn(stderr), [RAISED], 'create prints the warning too')

  const applied = await kubectl(cluster, ['apply', '--dry-run=server', '-n', 'shop', '-f', '-'], JSON.stringify(podOf({ name: 'dry' })))
  t.match(applied.stdout, /^pod\/dry created \(server dry run\)$/m)
  t.match(applied.stderr, `Warning: ${RAISED}\n`)
  const stored = await cluster.kubectl(['get', 'pod', 'dry', '-n', 'shop'])
  t.match(stored.stderr, /NotFound/, 'a dry run stores nothing')
})

t.test('a created Pod is stored mutated, every regular container with the hook', async t => {
  const containers = [{ name: 'web', image: pause }, { name: 'api', image: pause }]
  const created = await createPod(cluster, 'shop', podOf({ containers }))
  const { stdout } = await kubectl(cluster, ['get', 'pod', created.pod.metadata!.name!, '-n', 'shop', '-o', 'json'])
  const pod = JSON.parse(stdout) as Pod
  t.same(pod.spec.containers.map(sleepOf), [20, 20], 'both containers sleep 20 s')
  t.equal(pod.spec.terminationGracePeriodSeconds, 45, 'grace 45 s')
  t.equal(injected(pod), 'sleep=20s grace=45s handler=sleep containers=web,api', 'the marker')
  t.same(created.warnings, [RAISED], 'the warning')
})

t.test('a Deployment: every Pod the ReplicaSet controller creates is mutated', async t => {
  await kubectl(cluster, ['create', 'deployment', 'web', `--image=${pause}`, '--replicas=3', '-n', 'shop'])
  const pods = await until('three Pods of the Deployment', async () => {
    const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'json'])
    const { items } = JSON.parse(stdout) as { items: Pod[] }
    return items.length === 3 ? items : undefined
  })
  for (const pod of pods) {
    const owner = (pod.metadata!.ownerReferences as Array<{ kind: string }>)[0]!
    t.equal(owner.kind, 'ReplicaSet', `${pod.metadata!.name!} was made by the ReplicaSet controller`)
    t.equal(injected(pod), 'sleep=20s grace=45s handler=sleep containers=pause', 'the marker (kubectl names the container after the image)')
    t.equal(sleepOf(pod.spec.containers[0]), 20, 'preStop sleep 20 s')
    t.equal(pod.spec.terminationGracePeriodSeconds, 45, 'grace 45 s')
  }
  // The Deployment controller writes the Deployment too (its revision annotation), but through the
  // status subresource, which the workload webhook's rules leave out: nobody would read warnings of
  // a controller's write, so it must not be reviewed (the ReplicaSet is left out by matchConditions).
  const { stdout } = await kubectl(cluster, ['get', 'deployment', 'web', '-n', 'shop', '-o', 'json'])
  t.ok((JSON.parse(stdout) as Pod).metadata?.annotations?.['deployment.kubernetes.io/revision'], 'the controller wrote the Deployment')
  const reviews = webhook.log().split('\n').filter(line => line.includes('"msg":"admission"') && line.includes('"name":"web"'))
  t.equal(reviews.length, 1, `the workload webhook saw the Deployment once, from kubectl create, not from its controller:\n${reviews.join('\n')}`)
})

t.test('Pods lameduck leaves alone', async t => {
  t.test('in a namespace that did not opt in', async t => {
    const { pod, warnings } = await createPod(cluster, 'plain', podOf())
    untouched(t, pod)
    t.same(warnings, [], 'and no warning: lameduck was not called')
  })
  t.test('a Pod that opts out with its label', async t => {
    untouched(t, (await createPod(cluster, 'shop', podOf({ labels: { 'lameduck.dev/inject': 'disabled' } }))).pod)
  })
  t.test('restartPolicy Never and OnFailure', async t => {
    for (const restartPolicy of ['Never', 'OnFailure']) untouched(t, (await createPod(cluster, 'shop', podOf({ restartPolicy }))).pod)
  })
  t.test('a Job\'s Pod, made by the Job controller', async t => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'task', image: pause }] } } } }
    await kubectl(cluster, ['create', '-n', 'shop', '-f', '-'], JSON.stringify(job))
    const pod = await until('the Job\'s Pod', async () => {
      const { stdout } = await kubectl(cluster, ['get', 'pods', '-n', 'shop', '-l', 'job-name=once', '-o', 'json'])
      return (JSON.parse(stdout) as { items: Pod[] }).items[0]
    })
    untouched(t, pod)
  })
  t.test('a container with its own preStop keeps it, with a warning; the others get the hook', async t => {
    const own = { exec: { command: ['/bin/drain'] } }
    const { pod, warnings } = await createPod(cluster, 'shop', podOf({ containers: [{ name: 'web', image: pause, lifecycle: { preStop: own } }, { name: 'api', image: pause }] }))
    t.same(pod.spec.containers[0]!.lifecycle, { preStop: own }, 'web keeps its own hook')
    t.equal(sleepOf(pod.spec.containers[1]), 20, 'api gets the native sleep')
    t.equal(pod.spec.terminationGracePeriodSeconds, 45, 'the grace period is raised all the same')
    t.equal(injected(pod), 'sleep=20s grace=45s handler=sleep containers=api', 'the marker names api only')
    t.same(warnings, ['lameduck: container "web" already has a preStop hook; kept as it is', RAISED])
  })
  t.test('a native sidecar is never touched', async t => {
    const { pod } = await createPod(cluster, 'shop', podOf({ initContainers: [{ name: 'proxy', image: pause, restartPolicy: 'Always' }] }))
    t.equal(pod.spec.initContainers![0]!.lifecycle, undefined, 'the sidecar has no hook')
    t.equal(sleepOf(pod.spec.containers[0]), 20, 'the regular container has it')
    t.equal(injected(pod), MARKER, 'the marker names the regular container only')
  })
})

// Last: it replaces the configuration. lameduck checks again what the API server's filters check,
// in case a configuration lacks them (docs/configuration.md, "Left alone").
t.test('without the API server\'s selectors and matchConditions, lameduck\'s own checks leave the same Pods alone', async t => {
  await registerWebhook(cluster, webhook, { failurePolicy: 'Fail', filters: false })
  const notOptedIn = 'lameduck: namespace "plain" is not labeled lameduck.dev/inject=enabled; Pod left unchanged'
  const plain = await until('the unfiltered configuration to be in use', async () => {
    const created = await createPod(cluster, 'plain', podOf())
    return created.warnings.includes(notOptedIn) ? created : undefined
  })
  untouched(t, plain.pod)
  t.same(plain.warnings, [notOptedIn], 'the namespace that did not opt in is named')
  untouched(t, (await createPod(cluster, 'shop', podOf({ labels: { 'lameduck.dev/inject': 'disabled' } }))).pod)
  untouched(t, (await createPod(cluster, 'shop', podOf({ restartPolicy: 'Never' }))).pod)
  t.equal(injected((await createPod(cluster, 'shop', podOf())).pod), MARKER, 'an eligible Pod is still mutated')
  const reasons = webhook.log().split('\n').filter(line => line.includes('"msg":"admission"')).map(line => (JSON.parse(line) as { reason: string }).reason)
  t.ok(reasons.includes('Pod opted out'), 'lameduck itself skipped the opted-out Pod')
  t.ok(reasons.includes('restartPolicy Never'), 'lameduck itself skipped the restartPolicy Never Pod')
})
