import t from 'tap'
import type { V1Service } from '@kubernetes/client-node'
import {
  DEFAULT_IMAGE, JOB_LABELS, buildLoadJob, loadCpu, pickServicePort, serviceUrl
} from '../../../src/check/job.js'

const service = (ports: Array<{ port: number, name?: string }>): V1Service => ({ metadata: { name: 'web', namespace: 'shop' }, spec: { ports } })

t.test('the URL is the Service\'s cluster DNS name, so the Job reaches it from its own namespace', async t => {
  t.equal(serviceUrl('web', 'shop', 8080, '/healthz?x=1'), 'http://web.shop.svc:8080/healthz?x=1')
})

t.test('pickServicePort: by number or name, the only one, or the one named http', async t => {
  t.equal(pickServicePort(service([{ port: 80 }])), 80)
  t.equal(pickServicePort(service([{ port: 443, name: 'https' }, { port: 80, name: 'http' }])), 80)
  t.equal(pickServicePort(service([{ port: 443, name: 'https' }, { port: 80, name: 'http' }]), '443'), 443)
  t.equal(pickServicePort(service([{ port: 443, name: 'https' }, { port: 80, name: 'http' }]), 'https'), 443)
})

t.test('pickServicePort says which ports there are when it cannot choose', async t => {
  t.throws(() => pickServicePort(service([{ port: 443, name: 'https' }, { port: 9090 }])), { message: 'Service shop/web has ports 443 (https), 9090: choose one with --port' })
  t.throws(() => pickServicePort(service([{ port: 80 }]), '81'), { message: 'Service shop/web has no port 81; it has 80' })
  t.throws(() => pickServicePort(service([]), 'http'), { message: 'Service shop/web has no port http; it has none' })
  t.throws(() => pickServicePort({}), { message: 'Service / has no ports' })
})

t.test('the Job: generated name, labels, one attempt, a TTL, a deadline past the load, and the load command', async t => {
  const job = buildLoadJob({ namespace: 'shop', deployment: 'web', url: 'http://web.shop.svc:80/', rate: 25, durationSeconds: 90, image: DEFAULT_IMAGE })
  t.match(job.metadata, { generateName: 'lameduck-check-', namespace: 'shop', labels: JOB_LABELS, annotations: { 'lameduck.dev/check-target': 'shop/web' } })
  t.equal(job.metadata?.name, undefined, 'the API server picks a unique name')
  t.match(job.spec, { backoffLimit: 0, ttlSecondsAfterFinished: 600, template: { metadata: { labels: JOB_LABELS }, spec: { restartPolicy: 'Never', securityContext: { runAsNonRoot: true } } } })
  t.ok(job.spec!.activeDeadlineSeconds! > 90, 'the deadline leaves the load its whole duration')
  const [container] = job.spec!.template.spec!.containers
  t.equal(container!.name, 'load')
  t.equal(container!.image, 'lameduck:0.1.0')
  t.same(container!.args, ['load', '--url', 'http://web.shop.svc:80/', '--rate', '25', '--duration', '90s', '--no-keep-alive', '--json', '-'])
  const identified = buildLoadJob({ namespace: 'shop', deployment: 'web', url: 'http://web.shop.svc:80/', rate: 25, durationSeconds: 90, image: DEFAULT_IMAGE, identify: 'header:X-Pod' })
  t.same(identified.spec!.template.spec!.containers[0]!.args!.slice(-4), ['--identify', 'header:X-Pod', '--json', '-'], 'the load says which replica answered')
})

t.test('the load Pod asks for CPU in proportion to its rate, at least 100m, with no CPU limit; or what it is told', async t => {
  t.same([1, 20, 50, 51, 150, 333.3].map(loadCpu), ['100m', '100m', '100m', '102m', '300m', '667m'])
  const url = 'http://web.shop.svc:80/'
  const options = { namespace: 'shop', deployment: 'web', url, durationSeconds: 90, image: DEFAULT_IMAGE }
  const resources = (job: ReturnType<typeof buildLoadJob>): unknown => job.spec!.template.spec!.containers[0]!.resources
  const limits = { memory: '256Mi' }
  t.same(resources(buildLoadJob({ ...options, rate: 150 })), { requests: { cpu: '300m', memory: '64Mi' }, limits })
  const told = buildLoadJob({ ...options, rate: 150, cpu: '1500m' })
  t.same(resources(told), { requests: { cpu: '1500m', memory: '64Mi' }, limits })
})
