import t from 'tap'
import { decide, type Decision, type DecideInput } from '../../../src/admission/decide.js'
import { diff } from '../../../src/admission/patch.js'
import type { Container, Pod } from '../../../src/admission/pod.js'
import type { PolicyLimits } from '../../../src/admission/policy.js'
import { LIMITS, namespace, pod } from '../../helpers/pods.js'

const ADAPTIVE = { 'lameduck.dev/prestop-handler': 'adaptive' }
const PAUSE = { image: 'registry.example/lameduck-pause:1', delivery: 'init-container' } as const
const MOUNT = { name: 'lameduck-pause', mountPath: '/lameduck-pause', readOnly: true }

/** decide() in namespace `shop` with these annotations, and lameduck's limits with these changes. */
function run (p: Pod, annotations: Record<string, string> = ADAPTIVE, limits: Partial<PolicyLimits> = {},
  extra: Partial<DecideInput> = {}): Decision {
  const input = { pod: p, namespaceName: 'shop', namespace: namespace(annotations) }
  const excludeNamespaces = new Set<string>()
  return decide({ ...input, excludeNamespaces, limits: { ...LIMITS, pause: PAUSE, ...limits }, ...extra })
}
const mutated = (decision: Decision): Pod => {
  if (decision.action !== 'mutate') throw new Error(`skipped: ${decision.reason}`)
  return decision.pod
}
type ExecHook = { exec?: { command: string[] } } | undefined
const command = (p: Pod, index = 0): unknown =>
  (p.spec.containers[index]!.lifecycle?.preStop as ExecHook)?.exec?.command
const marker = (decision: Decision): string | undefined =>
  mutated(decision).metadata?.annotations?.['lameduck.dev/injected']

const app: Partial<Container> & { name: string } = {
  name: 'web',
  ports: [
    { name: 'http', containerPort: 8080 },
    { containerPort: 9090, protocol: 'TCP' },
    { containerPort: 53, protocol: 'UDP' }
  ],
  readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
  livenessProbe: { exec: { command: ['check'] } },
  startupProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 }
}

t.test('the hook runs lameduck-pause, which an init container copies into an emptyDir', async t => {
  const second = { name: 'sidecar-less', ports: [{ containerPort: 8443 }] }
  const decision = run(pod([app, second], { annotations: { 'lameduck.dev/prestop-sleep': '5s' } }))
  const p = mutated(decision)
  t.same(command(p), [
    '/lameduck-pause/lameduck-pause', 'wait', '--min', '5s', '--max', '120s', '--quiet', '5s',
    '--ports', '8080,8443,9090',
    '--probe-periods', '1s,10s', '--message-file', '/dev/termination-log'
  ], 'every TCP port of the Pod; readiness and liveness probes, not startup ones')
  t.same(command(p, 1), command(p), 'the same in every hooked container')
  t.same(p.spec.initContainers, [{
    name: 'lameduck-pause',
    image: 'registry.example/lameduck-pause:1',
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/local/bin/lameduck-pause', 'install', '/lameduck-pause'],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' }
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: 'lameduck-pause', mountPath: '/lameduck-pause' }]
  }])
  t.same(p.spec.volumes, [{ name: 'lameduck-pause', emptyDir: { sizeLimit: '16Mi' } }])
  t.same(p.spec.containers.map(c => c.volumeMounts), [[MOUNT], [MOUNT]])
  t.equal(p.spec.terminationGracePeriodSeconds, 135, 'the maximum + the budget')
  t.equal(marker(decision), 'sleep=5s grace=2m15s handler=adaptive containers=web,sidecar-less max=2m quiet=5s')
  t.same(decision.warnings, [
    'terminationGracePeriodSeconds raised from 30 to 135 (adaptive pause of at most 2m + shutdown budget 15s)'
  ])
})

t.test('a second pass changes nothing, also after the API server has defaulted what it adds', async t => {
  const spec = { initContainers: [{ name: 'setup', image: 'busybox' }], volumes: [{ name: 'data', emptyDir: {} }] }
  const once = mutated(run(pod([app], { spec })))
  t.same(once.spec.initContainers?.map(c => c.name), ['lameduck-pause', 'setup'], 'first, before any other init container or sidecar')
  t.same((once.spec.volumes as Array<{ name: string }>).map(v => v.name), ['data', 'lameduck-pause'])
  t.same(diff(once, mutated(run(once))), [], 'the same Pod again')
  const defaulted = structuredClone(once)
  Object.assign(defaulted.spec.initContainers![0]!, { resources: { requests: { cpu: '10m', memory: '16Mi' } } })
  ;(defaulted.spec.containers[0]!.volumeMounts as object[])[0] = { ...MOUNT, mountPropagation: 'None' }
  t.same(diff(defaulted, mutated(run(defaulted))), [], 'its own init container, volume and mount are found by name')
})

t.test('an image volume instead, where the cluster has them', async t => {
  const pause = { image: 'lameduck:0.2.0', delivery: 'image-volume' } as const
  const p = mutated(run(pod([{ name: 'web', terminationMessagePath: '/tmp/why' }]), ADAPTIVE, { pause }))
  t.same(command(p), [
    '/lameduck-pause/usr/local/bin/lameduck-pause', 'wait', '--min', '15s', '--max', '120s', '--quiet', '5s', '--message-file', '/tmp/why'
  ], 'no ports declared: the program takes every listening one; no probes; the container\'s own termination message path')
  t.equal(p.spec.initContainers, undefined, 'no init container')
  t.same(p.spec.volumes, [{ name: 'lameduck-pause', image: { reference: 'lameduck:0.2.0', pullPolicy: 'IfNotPresent' } }])
})

t.test('the maximum and the quiet period: annotations, limits and bad values', async t => {
  const annotated = (annotations: Record<string, string>, limits: Partial<PolicyLimits> = {}): Decision =>
    run(pod([{ name: 'web' }]), { ...ADAPTIVE, ...annotations }, limits)
  const both = { 'lameduck.dev/adaptive-max': '3m', 'lameduck.dev/adaptive-quiet': '8s' }
  t.match(marker(annotated(both)), / grace=3m15s .* max=3m quiet=8s$/)
  const clamped = annotated({ 'lameduck.dev/adaptive-max': '10m' })
  t.match(marker(clamped), / grace=5m15s .* max=5m /)
  t.equal(clamped.warnings[0], 'adaptive pause maximum 10m is over the server\'s limit; clamped to 5m (--max-sleep)')
  t.match(marker(annotated({}, { maxSleep: 60 })), / max=1m /, 'the default maximum, under a lower --max-sleep, without a word')
  const short = annotated({ 'lameduck.dev/prestop-sleep': '40s', 'lameduck.dev/adaptive-max': '30s' })
  t.match(marker(short), /^sleep=40s .* max=40s /)
  t.equal(short.warnings[0], 'adaptive pause maximum 30s is shorter than the preStop sleep 40s, its minimum; raised to it')
  const bad = annotated({ 'lameduck.dev/adaptive-max': 'soon', 'lameduck.dev/adaptive-quiet': '0' })
  t.match(marker(bad), / max=2m quiet=5s$/)
  t.same(bad.warnings.slice(0, 2), [
    'namespace annotation lameduck.dev/adaptive-max: "soon" is not a duration (use seconds like 15 or 15s, or 1m30s); using the default 2m',
    'namespace annotation lameduck.dev/adaptive-quiet: "0" is too short (at least 1s); using the default 5s'
  ])
  const otherHandler = annotated({ 'lameduck.dev/prestop-handler': 'sleep', 'lameduck.dev/adaptive-max': 'soon' })
  t.same(otherHandler.warnings, [], 'not read for other handlers')
})

t.test('--default-handler adaptive: the handler of Pods no annotation names one for', async t => {
  const byDefault = { defaultHandler: 'adaptive' } as const
  t.match(marker(run(pod([{ name: 'web' }]), {}, byDefault)), /handler=adaptive/)
  const auto = run(pod([{ name: 'web' }]), { 'lameduck.dev/prestop-handler': 'auto' }, byDefault)
  t.match(marker(auto), /handler=sleep/, 'auto still means the cluster\'s')
  const warned = run(pod([{ name: 'web' }]), { 'lameduck.dev/prestop-handler': 'maybe' }, byDefault)
  t.match(warned.warnings[0], /is not a handler \(use auto, sleep, exec or adaptive\); using the default adaptive$/)
})

t.test('only the containers that get the hook get the mount; none, and nothing is added', async t => {
  const own = { preStop: { exec: { command: ['drain'] } } }
  const p = mutated(run(pod([{ name: 'web' }, { name: 'legacy', lifecycle: own }])))
  t.same(p.spec.containers.map(c => c.volumeMounts !== undefined), [true, false])
  const decision = run(pod([{ name: 'legacy', lifecycle: own }]))
  t.equal(decision.action, 'skip')
  t.match(decision.warnings, [/kept as it is/])
})

t.test('a bare Pod\'s own grace period: the maximum is fitted under it', async t => {
  const bare = pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: 60 } })
  const decision = run(bare, { ...ADAPTIVE, 'lameduck.dev/prestop-sleep': '5s' }, {}, { source: 'written' })
  const p = mutated(decision)
  t.equal(p.spec.terminationGracePeriodSeconds, 60)
  t.match(command(p), ['/lameduck-pause/lameduck-pause', 'wait', '--min', '5s', '--max', '59s'])
  t.match(decision.warnings.at(-1), /; adaptive pause maximum shortened from 2m to 59s, leaving 1s of the 15s shutdown budget$/)
  const short = pod([{ name: 'web' }], { spec: { terminationGracePeriodSeconds: 3 } })
  const tight = run(short, ADAPTIVE, {}, { source: 'written' })
  t.match(command(mutated(tight)), ['/lameduck-pause/lameduck-pause', 'wait', '--min', '2s', '--max', '2s'], 'the minimum never above the maximum')
})

t.test('Windows Pods get the native sleep of the maximum; nginx is warned about', async t => {
  const windowsPod = pod([{ name: 'web' }], { spec: { os: { name: 'windows' } } })
  const windows = run(windowsPod)
  t.same(mutated(windows).spec.containers[0]!.lifecycle?.preStop, { sleep: { seconds: 120 } })
  t.equal(mutated(windows).spec.initContainers, undefined)
  t.equal(windows.warnings[0], 'Windows Pod: the adaptive pause runs a Linux program; the native sleep of its maximum, 2m, is used instead')
  const old = run(windowsPod, ADAPTIVE, { autoHandler: 'exec' })
  t.equal(old.action, 'skip')
  t.match(old.warnings[0], /^Windows Pod: the adaptive pause runs a Linux program, and this cluster has no native sleep/)
  t.match(run(pod([{ name: 'proxy', image: 'nginx:1.27' }])).warnings,
    [/container "proxy" runs nginx: unless its image's STOPSIGNAL is SIGQUIT, SIGTERM cuts requests in flight; set lameduck.dev\/prestop-handler: exec/])
})

t.test('without a configured pause image, lameduck\'s own and the init container', async t => {
  const input = { pod: pod([{ name: 'web' }]), namespaceName: 'shop', namespace: namespace(ADAPTIVE) }
  const excludeNamespaces = new Set<string>()
  t.equal(mutated(decide({ ...input, limits: LIMITS, excludeNamespaces })).spec.initContainers?.[0]?.image, 'lameduck:0.1.0')
})
