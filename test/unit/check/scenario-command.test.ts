// `lameduck check --scenario`: the flag, and a whole run through runCheckCommand with a fake cluster in
// which every wait is already over: the scale-in patches the replicas to 1 and back, the eviction goes
// through the Eviction API; neither restarts the Deployment.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { readCheckOptions, runCheckCommand, type CheckConnection } from '../../../src/check/command.js'
import type { SignalTarget } from '../../../src/check/scenario.js'
import {
  changes, doneScript, fakeCheckCluster, reportLine, type FakeCheckCluster
} from '../../helpers/check-cluster.js'

const REQUIRED = ['--namespace', 'shop', '--deployment', 'web', '--service', 'web']

t.test('--scenario is read only when given, and checked', async t => {
  t.equal(readCheckOptions([...REQUIRED, '--scenario', 'evict']).scenario, 'evict')
  t.notOk('scenario' in readCheckOptions(REQUIRED))
  t.throws(() => readCheckOptions([...REQUIRED, '--scenario', 'drain']), /--scenario must be one of restart, scale-in, evict, not "drain"/)
})

/** A done cluster whose Deployment has 3 replicas and one Pod, web-1; evictions are recorded as calls. */
function cluster (): FakeCheckCluster {
  return fakeCheckCluster({ ...doneScript(reportLine(['200'])), appPods: [[{ metadata: { name: 'web-1' } }]] })
}
const clock = { now: () => 0, sleep: async () => {} }
const io = (): {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: Record<string, string>
  err: string
} => {
  const out = {
    err: '',
    env: {},
    stdout: () => {},
    stderr: (s: string) => {
      out.err += s
    }
  }
  return out
}
const quiet = (): SignalTarget => Object.assign(new EventEmitter(), { exit: () => {} })

t.test('scale-in: to 1 and back to 3, no restart', async t => {
  const f = cluster()
  const out = io()
  t.equal(await runCheckCommand([...REQUIRED, '--scenario', 'scale-in'], out, async () => f.cluster, clock, quiet()), 0)
  t.same(changes(f), [
    'patchDeployment shop/web {"spec":{"replicas":1}}',
    'patchDeployment shop/web {"spec":{"replicas":3}}'
  ])
  t.match(out.err, /scaled deployment shop\/web from 3 replicas to 1[\s\S]*scaled deployment shop\/web back to 3 replicas/)
})

t.test('evict: each Pod through the Eviction API, no patch', async t => {
  const f = cluster()
  t.equal(await runCheckCommand([...REQUIRED, '--scenario', 'evict'], io(), async () => f.cluster, clock, quiet()), 0)
  t.same(changes(f), ['evictPod shop/web-1'])
  const cannot: CheckConnection = { ...cluster().cluster, evictPod: undefined }
  const refused = runCheckCommand([...REQUIRED, '--scenario', 'evict'], io(), async () => cannot, clock, quiet())
  await t.rejects(refused, /cannot evict Pods/)
})
