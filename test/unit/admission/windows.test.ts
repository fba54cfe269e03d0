import t from 'tap'
import { decide } from '../../../src/admission/decide.js'
import type { AutoHandler } from '../../../src/admission/types.js'
import { LIMITS, namespace, pod } from '../../helpers/pods.js'

const run = (annotations: Record<string, string>, autoHandler: AutoHandler, os?: string) => decide({
  pod: pod([{ name: 'web', image: 'mcr.microsoft.com/windows/servercore/iis' }], { annotations, spec: os === undefined ? {} : { os: { name: os } } }),
  namespaceName: 'shop',
  namespace: namespace(),
  limits: { ...LIMITS, autoHandler },
  excludeNamespaces: new Set()
})
const hook = (decision: ReturnType<typeof decide>): unknown => decision.action === 'mutate' ? decision.pod.spec.containers[0]!.lifecycle?.preStop : undefined

t.test('a Windows Pod never gets exec ["sleep","N"]', async t => {
  const explicit = run({ 'lameduck.dev/prestop-handler': 'exec' }, 'sleep', 'windows')
  t.same(hook(explicit), { sleep: { seconds: 15 } }, 'exec asked for, the native sleep given')
  t.same(explicit.warnings, ['Windows Pod: the exec handler runs a sleep command that Windows images do not have; the native sleep is used instead'])
  t.match(explicit.action === 'mutate' && explicit.pod.metadata?.annotations?.['lameduck.dev/injected'], /handler=sleep/)

  const old = run({}, 'exec', 'windows')
  t.equal(old.action === 'skip' && old.reason, 'Windows Pod without a native sleep', '`auto` means exec on an old cluster: no hook at all')
  t.same(old.warnings, ['Windows Pod: the exec handler runs a sleep command that Windows images do not have, and this cluster has no native sleep (Kubernetes older than 1.30): Pod left unchanged'])

  t.same(hook(run({}, 'sleep', 'windows')), { sleep: { seconds: 15 } }, 'the native sleep, as for any Pod')
  t.same(hook(run({ 'lameduck.dev/prestop-handler': 'exec' }, 'sleep', 'linux')), { exec: { command: ['sleep', '15'] } }, 'Linux Pods get what they ask for')
  t.same(hook(run({}, 'exec')), { exec: { command: ['sleep', '15'] } }, 'no os: Linux')
})
