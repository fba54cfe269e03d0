import t from 'tap'
import { DEFAULT_GRACE_SECONDS, terminationPlan, type PreStopHandler, type StoredPod } from '../../../demo/plan.js'

function pod (preStop?: PreStopHandler, grace?: number, name: string | undefined = 'web-1'): StoredPod {
  return {
    metadata: { name, namespace: 'shop' },
    spec: { ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }), containers: [{ name: 'web', ...(preStop === undefined ? {} : { lifecycle: { preStop } }) }, { name: 'sidecar' }] }
  }
}

t.test('no hook: SIGTERM at once, SIGKILL at the grace deadline', async t => {
  t.same(terminationPlan(pod(undefined, 30)), { pod: 'shop/web-1', preStop: 'none', graceSeconds: 30, sigtermAtMs: 0, killAtMs: 30_000 })
})

t.test('a grace period the Pod does not state is the kubelet default', async t => {
  t.equal(terminationPlan(pod()).graceSeconds, DEFAULT_GRACE_SECONDS)
  t.equal(terminationPlan(pod()).killAtMs, DEFAULT_GRACE_SECONDS * 1000)
})

t.test('the native sleep action: SIGTERM when it ends; SIGKILL still counted from the start of preStop', async t => {
  t.same(terminationPlan(pod({ sleep: { seconds: 5 } }, 30)), { pod: 'shop/web-1', preStop: 'sleep 5s', graceSeconds: 30, sigtermAtMs: 5000, killAtMs: 30_000 })
})

t.test('exec sleeps, as lameduck writes them and as people do', async t => {
  const cases: Array<[string[], number]> = [
    [['sleep', '7'], 7],
    [['/bin/sleep', '8'], 8],
    [['/bin/sh', '-c', 'sleep 9'], 9],
    [['/bin/sh', '-c', 'sleep 4; nginx -s quit; while pgrep -x nginx; do sleep 1; done'], 4],
    [['sh', '-c', 'echo bye && sleep 6'], 6]
  ]
  for (const [command, seconds] of cases) {
    const plan = terminationPlan(pod({ exec: { command } }, 60))
    t.equal(plan.sigtermAtMs, seconds * 1000, command.join(' '))
    t.equal(plan.preStop, `exec ${command.join(' ')}`)
  }
})

t.test('a hook as long as the grace period: SIGTERM at the deadline, SIGKILL 2 s later', async t => {
  t.same(terminationPlan(pod({ sleep: { seconds: 40 } }, 30)), { pod: 'shop/web-1', preStop: 'sleep 40s', graceSeconds: 30, sigtermAtMs: 30_000, killAtMs: 32_000 })
  t.equal(terminationPlan(pod({ sleep: { seconds: 30 } }, 30)).killAtMs, 32_000)
})

t.test('hooks the demo cannot carry out, and Pods without containers, are refused by name', async t => {
  t.throws(() => terminationPlan(pod({ httpGet: { path: '/quit', port: 8080 } })), /Pod shop\/web-1: the demo only reads preStop hooks that sleep, not \{"httpGet"/)
  t.throws(() => terminationPlan(pod({ exec: { command: ['/app/drain'] } })), /only reads preStop hooks that sleep/)
  t.throws(() => terminationPlan(pod({ exec: {} })), /only reads/)
  t.throws(() => terminationPlan(pod({ exec: { command: ['sleep', 'forever'] } })), /only reads/)
  t.throws(() => terminationPlan({ metadata: {}, spec: { containers: [] } }), /^Pod default\/\(unnamed\) has no containers$/)
})

t.test('the adaptive pause: SIGTERM at its maximum at the latest', async t => {
  const command = ['/lameduck-pause/lameduck-pause', 'wait', '--min', '1s', '--max', '60s', '--quiet', '3s', '--ports', '8080']
  t.same(terminationPlan(pod({ exec: { command } }, 65)),
    { pod: 'shop/web-1', preStop: 'adaptive, 1s to 60s (quiet 3s)', graceSeconds: 65, sigtermAtMs: 60_000, killAtMs: 65_000 })
  t.equal(terminationPlan(pod({ exec: { command: ['/lameduck-pause', 'wait', '--max', '5s', '--quiet'] } }, 9)).preStop, 'adaptive, ? to 5s (quiet ?)')
  const install = ['/lameduck-pause/lameduck-pause', 'install', '/x']
  t.throws(() => terminationPlan(pod({ exec: { command: install } })), /only reads preStop hooks that sleep/)
})
