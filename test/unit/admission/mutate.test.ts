import t from 'tap'
import { formatMarker, mutatePod } from '../../../src/admission/mutate.js'
import { resolveSettings } from '../../../src/admission/policy.js'
import type { Pod } from '../../../src/admission/pod.js'
import { LIMITS, pod } from '../../helpers/pods.js'

const settings = (annotations: Record<string, string> = {}) => resolveSettings(annotations, undefined, LIMITS)
const hooks = (mutated: Pod | undefined) => mutated?.spec.containers.map(c => c.lifecycle?.preStop)

t.test('every regular container gets the native sleep, grace and the marker', async t => {
  const original = pod([{ name: 'web' }, { name: 'api' }], { annotations: { a: 'b' } })
  const frozen = structuredClone(original)
  const result = mutatePod(original, settings({ 'lameduck.dev/prestop-sleep': '20s' }), 600)
  t.same(original, frozen, 'the original is not changed')
  t.same(hooks(result.pod), [{ sleep: { seconds: 20 } }, { sleep: { seconds: 20 } }])
  t.equal(result.pod?.spec.terminationGracePeriodSeconds, 35)
  t.same(result.pod?.metadata?.annotations, { a: 'b', 'lameduck.dev/injected': 'sleep=20s grace=35s handler=sleep containers=web,api' })
  t.same(result.containers, ['web', 'api'])
  t.match(result.warnings, [/raised from 30 to 35/])
})

t.test('a Pod without metadata or annotations gets them', async t => {
  const bare: Pod = { spec: { containers: [{ name: 'web' }] } }
  const result = mutatePod(bare, settings(), 600)
  t.equal(result.pod?.metadata?.annotations?.['lameduck.dev/injected'], 'sleep=15s grace=30s handler=sleep containers=web')
  t.equal(result.pod?.spec.terminationGracePeriodSeconds, 30, 'unset grace is written as the value the policy assumed')
})

t.test('an existing preStop is kept, with a warning; the others still get the hook', async t => {
  const own = { exec: { command: ['/drain.sh'] } }
  const result = mutatePod(pod([{ name: 'web', lifecycle: { preStop: own, postStart: { exec: { command: ['true'] } } } }, { name: 'api', lifecycle: { postStart: { exec: { command: ['true'] } } } }]), settings(), 600)
  t.same(hooks(result.pod), [own, { sleep: { seconds: 15 } }])
  t.same(result.pod?.spec.containers[1]?.lifecycle?.postStart, { exec: { command: ['true'] } }, 'other lifecycle hooks stay')
  t.match(result.warnings, [/container "web" already has a preStop hook; kept as it is/])
})

t.test('no eligible container: nothing to do, and the reasons', async t => {
  const result = mutatePod(pod([{ name: 'web', lifecycle: { preStop: { sleep: { seconds: 3 } } } }]), settings(), 600)
  t.equal(result.pod, undefined)
  t.equal(result.grace, undefined)
  t.match(result.warnings, [/kept as it is/])
})

t.test('a container list picks regular containers and explains the rest', async t => {
  const original = pod([{ name: 'web' }, { name: 'api' }], {
    spec: { initContainers: [{ name: 'migrate', image: 'm' }, { name: 'proxy', image: 'p', restartPolicy: 'Always' }] }
  })
  const result = mutatePod(original, settings({ 'lameduck.dev/containers': 'api,proxy,migrate,ghost' }), 600)
  t.same(result.containers, ['api'])
  t.same(hooks(result.pod), [undefined, { sleep: { seconds: 15 } }])
  t.same(result.pod?.spec.initContainers, original.spec.initContainers, 'init containers and sidecars are never touched')
  t.same(result.warnings, [
    'lameduck.dev/containers names "ghost", which matches no container in this Pod',
    'lameduck.dev/containers names "proxy", which is a native sidecar; only regular containers get a preStop hook',
    'lameduck.dev/containers names "migrate", which is an init container; only regular containers get a preStop hook'
  ])
})

t.test('names that pick nothing make one warning per kind, however many there are', async t => {
  const sidecars = ['s1', 's2'].map(name => ({ name, image: 'p', restartPolicy: 'Always' }))
  const inits = ['i1', 'i2'].map(name => ({ name, image: 'm' }))
  const original = pod([{ name: 'web' }], { spec: { initContainers: [...sidecars, ...inits] } })
  const ghosts = Array.from({ length: 30 }, (_, i) => `ghost-${i}`)
  const list = ['web', ...ghosts, 's1', 's2', 'i1', 'i2'].join(',')
  const result = mutatePod(original, settings({ 'lameduck.dev/containers': list }), 600)
  t.equal(result.warnings.length, 3)
  t.match(result.warnings[0], /^lameduck\.dev\/containers names "ghost-0", "ghost-1", .* and \d+ more, which match no/)
  const regularOnly = 'only regular containers get a preStop hook'
  t.equal(result.warnings[1], `lameduck.dev/containers names "s1" and "s2", which are native sidecars; ${regularOnly}`)
  t.equal(result.warnings[2], `lameduck.dev/containers names "i1" and "i2", which are init containers; ${regularOnly}`)
  t.ok(result.warnings.every(warning => warning.length <= 256), 'each under the API server\'s 256 characters')
})

t.test('exec handler, and the nginx preset', async t => {
  const result = mutatePod(pod([{ name: 'web' }, { name: 'proxy', image: 'nginx:1.27' }]), settings({ 'lameduck.dev/prestop-handler': 'exec' }), 600)
  t.same(hooks(result.pod)?.[0], { exec: { command: ['sleep', '15'] } })
  t.match(JSON.stringify(hooks(result.pod)?.[1]), /kill -QUIT \$w/)
  t.same(result.warnings, [], 'the preset needs no explanation')
})

t.test('nginx under the native sleep is warned about', async t => {
  const result = mutatePod(pod([{ name: 'proxy', image: 'nginx' }]), settings(), 600)
  t.match(result.warnings, [/container "proxy" runs nginx.*prestop-handler: exec/])
})

t.test('a second pass over its own result changes nothing and warns no more', async t => {
  const first = mutatePod(pod([{ name: 'web' }]), settings({ 'lameduck.dev/prestop-sleep': '40' }), 600)
  const second = mutatePod(first.pod!, settings({ 'lameduck.dev/prestop-sleep': '40' }), 600)
  t.same(second.pod, first.pod)
  t.same(second.warnings, [])
  t.same(second.containers, ['web'], 'its own hook still counts as injected')
})

t.test('the marker names sleep, grace, handler and containers', async t => {
  t.equal(formatMarker(settings({ 'lameduck.dev/prestop-sleep': '90' }), 105, ['a', 'b']), 'sleep=1m30s grace=1m45s handler=sleep containers=a,b')
})

t.test('a container list on a Pod without init containers', async t => {
  const result = mutatePod(pod([{ name: 'web' }]), settings({ 'lameduck.dev/containers': 'web,ghost' }), 600)
  t.same(result.containers, ['web'])
  t.match(result.warnings, [/"ghost", which matches no container/])
})
