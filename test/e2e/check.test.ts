// manifests/loadtest/ and `lameduck check` on the local control plane, as far as it goes without a
// kubelet. The API server, etcd and the controller manager are real: the Deployment, ReplicaSet and
// Job controllers do their own work. There is no kubelet and no scheduler, so Pods stay Pending,
// nothing runs, no endpoint is ever ready, and no container writes a log.
//
// Where a run needs a Pod to have started, this test plays the kubelet's part and says so: it writes
// Pod *status* (phase, Ready) through the status subresource, exactly what a kubelet reports. It
// never writes the status of a Deployment, ReplicaSet or Job: those come from the controllers.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { createNamespace } from '../../control-plane/namespaces.js'
import { runCli } from '../../src/cli/main.js'
import { RESTARTED_AT } from '../../src/check/rollout.js'
import { clusterFor, kubectl as kubectlOf, until } from '../helpers/e2e.js'


const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const LOADTEST = join(ROOT, 'manifests/loadtest')
const cluster = await clusterFor(t, 300_000)

const kubectl = async (args: string[], input?: string): Promise<string> =>
  (await kubectlOf(cluster, args, input)).stdout

async function getJson<T> (namespace: string, ...what: string[]): Promise<T> {
  return JSON.parse(await kubectl(['get', '-n', namespace, ...what, '-o', 'json'])) as T
}

interface Meta {
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  deletionTimestamp?: string
  ownerReferences?: Array<{ kind: string, name: string }>
  generateName?: string
}
interface Pod { metadata: Meta, status?: { phase?: string } }
interface Job {
  metadata: Meta
  spec: {
    backoffLimit: number
    ttlSecondsAfterFinished: number
    activeDeadlineSeconds: number
    template: { spec: { restartPolicy: string; containers: Array<{ name: string, image: string, args: string[] }> } }
  }
}
interface Deployment {
  metadata: Meta
  spec: {
    replicas: number
    template: {
      metadata: Meta
      spec: { containers: Array<{ image: string, args?: string[], readinessProbe?: unknown, lifecycle?: unknown }> }
    }
  }
}
interface List<T> { items: T[] }

/** Writes a Pod's status as a kubelet would report it. */
async function reportPod (namespace: string, name: string, phase: 'Running' | 'Succeeded', ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  const status = { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }], startTime: now }
  await kubectl(['patch', 'pod', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })])
}

/** `lameduck check ARGS` in this process; resolves with its exit code and output. */
async function check (namespace: string, ...args: string[]): Promise<{ code: number, out: string, err: string }> {
  const result = { code: -1, out: '', err: '' }
  const io = { stdout: (s: string) => { result.out += s }, stderr: (s: string) => { result.err += s }, env: {} }
  result.code = await runCli(['check', '--kubeconfig', cluster.kubeconfigPath, '--namespace', namespace, '--deployment', 'loadtest-app', '--service', 'loadtest-app', '--rate', '10', ...args], io)
  return result
}

const checkJobs = async (namespace: string): Promise<Job[]> => (await getJson<List<Job>>(namespace, 'jobs', '-l', 'app.kubernetes.io/name=lameduck-check')).items
const replicaSets = async (namespace: string): Promise<string[]> =>
  (await getJson<List<{ metadata: Meta }>>(namespace, 'replicasets', '-l', 'app.kubernetes.io/name=loadtest-app')).items.map(rs => rs.metadata.name)

t.test('manifests/loadtest: the API server accepts every object, and the Job loads the Service it ships with', async t => {
  const out = await kubectl(['apply', '--dry-run=server', '-k', LOADTEST])
  t.match(out, /deployment\.apps\/loadtest-app (created|configured) \(server dry run\)/)
  t.match(out, /service\/loadtest-app (created|configured) \(server dry run\)/)
  t.match(out, /job\.batch\/lameduck-load (created|configured) \(server dry run\)/)
  const docs = parseAllDocuments(await kubectl(['kustomize', LOADTEST])).map(d => d.toJS() as { kind: string, metadata: Meta, spec: Record<string, unknown> })
  const deployment = docs.find(d => d.kind === 'Deployment') as unknown as Deployment
  const service = docs.find(d => d.kind === 'Service') as unknown as { metadata: Meta, spec: { ports: Array<{ port: number }> } }
  const job = docs.find(d => d.kind === 'Job') as unknown as Job
  t.ok(deployment.spec.replicas >= 3, 'at least 3 replicas')
  const app = deployment.spec.template.spec.containers[0]!
  t.ok(app.readinessProbe, 'the app has a readiness probe')
  t.equal(app.lifecycle, undefined, 'no preStop of its own: that is what lameduck adds')
  t.match(app.image, /^registry\.k8s\.io\/e2e-test-images\/agnhost:/)
  const load = job.spec.template.spec.containers.find(c => c.name === 'load')!
  t.equal(load.image, 'lameduck:0.1.0')
  const url = new URL(load.args[load.args.indexOf('--url') + 1]!)
  t.equal(url.hostname, service.metadata.name, 'the load goes to the Service in the same namespace')
  t.equal(Number(url.port === '' ? 80 : url.port), service.spec.ports[0]!.port)
  t.same(load.args.slice(load.args.indexOf('--json'), load.args.indexOf('--json') + 2), ['--json', '-'])
  t.equal(job.spec.backoffLimit, 0)
  t.equal(job.spec.template.spec.restartPolicy, 'Never')
})

/** A namespace with manifests/loadtest applied (its own Job stays Pending, like every Pod here). */
async function loadtestNamespace (t: Test, namespace: string): Promise<void> {
  await createNamespace(cluster, namespace)
  await kubectl(['apply', '-n', namespace, '-k', LOADTEST])
  await until('the app\'s first ReplicaSet', async () => (await replicaSets(namespace)).length === 1 ? true : undefined)
  t.comment(`${namespace}: manifests/loadtest applied`)
}

/** Plays the kubelet for the load Job's Pod: reports it Running once it exists. */
async function startLoadPod (namespace: string): Promise<Job> {
  const job = await until('the check\'s load Job', async () => (await checkJobs(namespace))[0])
  const pod = await until('the load Job\'s Pod', async () => (await getJson<List<Pod>>(namespace, 'pods', '-l', `job-name=${job.metadata.name}`)).items[0])
  await reportPod(namespace, pod.metadata.name, 'Running', true)
  return job
}

t.test('check starts the load Job, restarts the Deployment, and times out naming the rollout it waits for', async t => {
  await loadtestNamespace(t, 'shop-a')
  const before = await replicaSets('shop-a')
  const run = check('shop-a', '--duration', '5s', '--timeout', '12s')
  const job = await startLoadPod('shop-a')
  t.match(job.metadata.name, /^lameduck-check-[a-z0-9]{5}$/, 'a generated, unique name')
  t.match(job.metadata.labels, { 'app.kubernetes.io/name': 'lameduck-check', 'app.kubernetes.io/managed-by': 'lameduck' })
  t.equal(job.metadata.annotations?.['lameduck.dev/check-target'], 'shop-a/loadtest-app')
  t.match(job.spec, { backoffLimit: 0, ttlSecondsAfterFinished: 600, template: { spec: { restartPolicy: 'Never' } } })
  t.ok(job.spec.activeDeadlineSeconds > 5, 'bounded, beyond the load itself')
  t.same(job.spec.template.spec.containers[0]!.args, ['load', '--url', 'http://loadtest-app.shop-a.svc:80/', '--rate', '10', '--duration', '5s', '--no-keep-alive', '--identify', 'json:pod', '--json', '-'])
  t.equal(job.spec.template.spec.containers[0]!.image, 'lameduck:0.1.0')

  const result = await run
  t.equal(result.code, 1, 'the rollout cannot complete without a kubelet')
  t.match(result.err, /lameduck check: timed out after 12s waiting for deployment loadtest-app to roll out: Waiting for deployment "loadtest-app" rollout to finish: \d+ out of 3 new replicas have been updated\.\.\.\n$/)
  t.match(result.err, /restarted deployment shop-a\/loadtest-app/)
  const deployment = await getJson<Deployment>('shop-a', 'deployment', 'loadtest-app')
  t.match(deployment.spec.template.metadata.annotations?.[RESTARTED_AT], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'the template has the restart annotation')
  const after = await replicaSets('shop-a')
  t.equal(after.length, 2, 'the Deployment controller made a new ReplicaSet for the new template')
  t.ok(after.some(name => !before.includes(name)))
})

t.test('with the kubelet played by the test, check follows the whole rollout and fails only at the Job\'s log, which only a real kubelet has', async t => {
  await loadtestNamespace(t, 'shop-b')
  let stop = false
  let jobName = ''
  let restarted = false
  // The stand-in kubelet: every app Pod becomes Running and Ready; the load Pod Running, then
  // Succeeded once the rollout has completed (as a load outlasting the rollout would).
  const kubelet = (async () => {
    while (!stop) {
      // Read before the rollout status, so that "rolled out" is never the state from before the restart.
      const afterRestart = restarted
      const pods = (await getJson<List<Pod>>('shop-b', 'pods')).items
      const rolledOut = (await cluster.kubectl(['rollout', 'status', '-n', 'shop-b', 'deployment/loadtest-app', '--watch=false'])).stdout.includes('successfully rolled out')
      for (const pod of pods) {
        const phase = pod.status?.phase
        if (pod.metadata.deletionTimestamp !== undefined) continue
        if (pod.metadata.labels?.['app.kubernetes.io/name'] === 'loadtest-app' && phase === 'Pending') await reportPod('shop-b', pod.metadata.name, 'Running', true)
        if (jobName !== '' && pod.metadata.labels?.['job-name'] === jobName) {
          if (phase === 'Pending') await reportPod('shop-b', pod.metadata.name, 'Running', true)
          if (phase === 'Running' && rolledOut && afterRestart) await reportPod('shop-b', pod.metadata.name, 'Succeeded', false)
        }
      }
      await sleep(300)
    }
  })()
  t.teardown(async () => { stop = true; await kubelet })
  await until('the first rollout', async () => (await cluster.kubectl(['rollout', 'status', '-n', 'shop-b', 'deployment/loadtest-app', '--watch=false'])).stdout.includes('successfully rolled out') ? true : undefined)
  const before = await replicaSets('shop-b')
  const run = check('shop-b', '--duration', '5s', '--timeout', '90s')
  jobName = (await until('the check\'s load Job', async () => (await checkJobs('shop-b'))[0])).metadata.name
  await until('the restart', async () => (await getJson<Deployment>('shop-b', 'deployment', 'loadtest-app')).spec.template.metadata.annotations?.[RESTARTED_AT])
  restarted = true
  const result = await run
  t.comment(result.err)
  t.equal(result.code, 1)
  t.match(result.err, /started load Job shop-b\/lameduck-check-/)
  t.match(result.err, /deployment "loadtest-app" successfully rolled out/)
  t.match(result.err, /no old Pod is left/)
  t.match(result.err, new RegExp(`the load Job ${jobName} finished`))
  // No kubelet ran the container, so the API server has no log for it (204 No Content).
  t.match(result.err, /lameduck check: the load Pod's log has no JSON report \(it is empty\)\n$/)
  const after = await replicaSets('shop-b')
  t.equal(after.length, 2)
  t.ok(after.some(name => !before.includes(name)), 'a new ReplicaSet took over')
  const pods = (await getJson<List<Pod>>('shop-b', 'pods', '-l', 'app.kubernetes.io/name=loadtest-app')).items
  t.equal(pods.length, 3)
})

t.test('--measure sets its override on the template, and on a timeout puts the template back exactly as it was', async t => {
  await loadtestNamespace(t, 'shop-c')
  const before = (await getJson<Deployment>('shop-c', 'deployment', 'loadtest-app')).spec.template.metadata
  const result = await check('shop-c', '--measure', '--measure-sleep', '30s', '--duration', '5s', '--timeout', '8s')
  t.comment(result.err)
  t.equal(result.code, 1, 'the rollout cannot complete without a kubelet')
  t.match(result.err, /measuring: the Pods of deployment loadtest-app get a 30s pause, as a temporary override on their template \(annotation lameduck\.dev\/prestop-sleep=30s\)/)
  t.match(result.err, /put back the template's lameduck\.dev\/prestop-sleep \(none\) of deployment shop-c\/loadtest-app\n/)
  t.match(result.err, /lameduck check: timed out after 8s waiting for deployment loadtest-app to roll out/)
  const after = await getJson<Deployment>('shop-c', 'deployment', 'loadtest-app')
  t.same(after.spec.template.metadata, before, 'the Pod template is as it was')
  const sets = await replicaSets('shop-c')
  t.equal(sets.length, 2, 'the override made one ReplicaSet; putting it back returned to the first one')
  t.equal((await checkJobs('shop-c')).length, 0, 'no load was started')
})

t.test('Ctrl-C during --measure (the CLI as a process): the template is put back before it exits', async t => {
  await loadtestNamespace(t, 'shop-d')
  const before = (await getJson<Deployment>('shop-d', 'deployment', 'loadtest-app')).spec.template.metadata
  const child = spawn(process.execPath, [...process.execArgv, join(ROOT, 'test/helpers/run-cli.ts'), 'check', '--kubeconfig', cluster.kubeconfigPath, '--namespace', 'shop-d',
    '--deployment', 'loadtest-app', '--service', 'loadtest-app', '--measure', '--duration', '30s', '--timeout', '2m'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  await until('the override to be set', async () => (await getJson<Deployment>('shop-d', 'deployment', 'loadtest-app')).spec.template.metadata.annotations?.['lameduck.dev/prestop-sleep'] === '60s' ? true : undefined)
  await until('the check to wait for the rollout', async () => err.includes('Waiting for deployment') ? true : undefined)
  child.kill('SIGINT')
  const [code] = await exited
  t.comment(err)
  t.equal(code, 130, 'it exits by itself, as an interrupted command does')
  t.match(err, /interrupted: putting back what was changed \(Ctrl-C again to leave it as it is\)\n/)
  t.match(err, /put back the template's lameduck\.dev\/prestop-sleep \(none\) of deployment shop-d\/loadtest-app\n/)
  t.match(err, /lameduck check: interrupted while waiting for deployment loadtest-app to roll out\n$/)
  t.same((await getJson<Deployment>('shop-d', 'deployment', 'loadtest-app')).spec.template.metadata, before, 'the Pod template is as it was')
})
