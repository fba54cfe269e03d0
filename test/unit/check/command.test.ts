import t from 'tap'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'
import type { KubeTarget } from '../../../src/kube/access.js'
import { readCheckOptions, realClock, runCheckCommand, type CheckConnection } from '../../../src/check/command.js'
import {
  doneScript, fakeCheckCluster, reportLine, type FakeCheckCluster, type Script
} from '../../helpers/check-cluster.js'

function io (): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  return Object.assign(captured, {
    stdout: (s: string) => {
      captured.out += s
    },
    stderr: (s: string) => {
      captured.err += s
    },
    env: {}
  })
}

const REQUIRED = ['--namespace', 'shop', '--deployment', 'web', '--service', 'web']

t.test('defaults, and every flag read', async t => {
  const none = { cluster: { kubeconfig: undefined, context: undefined }, json: undefined, svg: undefined }
  t.same(readCheckOptions(REQUIRED), { namespace: 'shop', deployment: 'web', service: 'web', port: undefined, path: '/', rate: 20, durationSeconds: 120, image: 'lameduck:0.1.0', timeoutMs: 600_000, identify: 'json:pod', ...none })
  const every = [
    '--port', 'http', '--path', '/healthz', '--rate', '7.5', '--duration', '1m30s', '--image', 'reg/lameduck:1',
    '--timeout', '5m', '--kubeconfig', '/k', '--context', 'c', '--identify', 'header:X-Pod', '--json', 'out.json',
    '--svg', 'out.svg'
  ]
  t.same(readCheckOptions([...REQUIRED, ...every]), {
    namespace: 'shop', deployment: 'web', service: 'web', port: 'http', path: '/healthz', rate: 7.5,
    durationSeconds: 90, image: 'reg/lameduck:1', timeoutMs: 300_000, identify: 'header:X-Pod',
    cluster: { kubeconfig: '/k', context: 'c' }, json: 'out.json', svg: 'out.svg'
  })
  t.match(readCheckOptions([...REQUIRED, '--measure']), { measureSleepSeconds: 60, durationSeconds: 150 }, '--measure: a 60 s pause unless told, and a load that outlasts it')
  t.match(readCheckOptions([...REQUIRED, '--measure', '--measure-sleep', '10s']), { durationSeconds: 120 }, 'at least the usual 2 minutes')
  t.match(readCheckOptions([...REQUIRED, '--measure', '--measure-sleep', '2m', '--url', 'http://127.0.0.1:8080/']), { measureSleepSeconds: 120, durationSeconds: 210, url: 'http://127.0.0.1:8080/' })
})

t.test('a bad flag is one line and exit 2', async t => {
  const cases: Array<[string[], string]> = [
    [[], '--namespace is required'],
    [['--namespace', 'shop', '--deployment', ' ', '--service', 'web'], '--deployment is required'],
    [['--namespace', 'shop', '--deployment', 'web'], '--service is required'],
    [[...REQUIRED, '--rate', 'lots'], '--rate must be a number, not "lots"'],
    [[...REQUIRED, '--rate', ' '], '--rate must be a number, not " "'],
    [[...REQUIRED, '--rate', '0'], '--rate must be a number of requests per second above 0, got 0'],
    [[...REQUIRED, '--duration', 'soon'], '--duration: "soon" is not a duration (use seconds like 15 or 15s, or 1m30s)'],
    [[...REQUIRED, '--duration', '0s'], '--duration must be above 0'],
    [[...REQUIRED, '--duration', '5m', '--timeout', '4m'], '--timeout (240s) must be longer than --duration (300s): the load alone takes that long'],
    [[...REQUIRED, '--path', 'healthz'], '--path must start with /, not "healthz"'],
    [[...REQUIRED, '--image', ''], '--image must not be empty'],
    [[...REQUIRED, '--identify', 'pod'], '--identify: "pod" is not one of header:NAME, json:FIELD[.FIELD…] or body'],
    [[...REQUIRED, '--url', 'ftp://lb/'], '--url must be an http or https URL, got "ftp://lb/"'],
    [[...REQUIRED, '--measure-sleep', '30s'], '--measure-sleep goes with --measure'],
    [[...REQUIRED, '--measure', '--measure-sleep', '0'], '--measure-sleep must be above 0'],
    [[...REQUIRED, '--json', ' '], '--json must name a file'],
    [[...REQUIRED, '--svg', ''], '--svg must name a file'],
    [[...REQUIRED, '--measure', '--scenario', 'scale-in'], '--measure measures a rollout: it goes with --scenario restart, not scale-in']
  ]
  for (const [argv, message] of cases) {
    const out = io()
    t.equal(await runCli(['check', ...argv], out), 2, argv.join(' '))
    t.equal(out.err, `lameduck check: ${message}\n`, argv.join(' '))
  }
  const unknown = io()
  t.equal(await runCli(['check', ...REQUIRED, '--replicas', '3'], unknown), 2)
  t.match(unknown.err, /^lameduck check: Unknown option '--replicas'.*\n$/)
})

t.test('help lists every flag', async t => {
  const out = io()
  t.equal(await runCli(['check', '--help'], out), 0)
  const flags = ['--namespace', '--deployment', '--service', '--port', '--path', '--rate', '--duration', '--image', '--timeout',
    '--kubeconfig', '--context', '--url', '--identify', '--measure', '--measure-sleep', '--json', '--svg', '--load-cpu']
  for (const flag of flags) t.match(out.out, flag)
  const top = io()
  await runCli(['--help'], top)
  t.match(top.out, /check\s+in a cluster/)
})

/** A done cluster (every wait over) whose load log is `log`. */
const doneCluster = (log: string): CheckConnection => fakeCheckCluster(doneScript(log)).cluster

const clock = { now: () => 0, sleep: async () => {} }

t.test('no failed request: the report and PASS on stdout, progress on stderr, exit 0', async t => {
  const out = io()
  let target: KubeTarget | undefined
  let closed = 0
  const connect = async (asked: KubeTarget): Promise<CheckConnection> => {
    target = asked
    return { ...doneCluster(reportLine(['200', '200'])), close: async () => { closed++ } }
  }
  const argv = [...REQUIRED, '--kubeconfig', '/k', '--context', 'c', '--duration', '10s']
  t.equal(await runCheckCommand(argv, out, connect, clock), 0)
  t.same(target, { kubeconfig: '/k', context: 'c' }, 'the cluster of the kubeconfig and context given')
  t.equal(closed, 1, 'its connection closed at the end')
  t.match(out.out, /^Requests\s+\[total, rate, throughput\]\s+2, 10\.00/)
  t.match(out.out, /PASS: all 2 requests succeeded during the rollout\n$/)
  t.match(out.err, /^checking deployment shop\/web through Service web on https:\/\/fake:6443\n/)
  t.match(out.err, /started load Job shop\/lameduck-check-abcde: 20 requests\/s for 10s to http:\/\/web\.shop\.svc:80\//)
})

t.test('failed requests: FAIL with how many and of which kinds, exit 1', async t => {
  const out = io()
  t.equal(await runCheckCommand(REQUIRED, out, () => doneCluster(reportLine(['200', 'refused', '502', 'refused'])), clock), 1)
  t.match(out.out, /Status Codes\s+\[code:count\]\s+200:1 502:1 refused:2/)
  t.match(out.out, /FAIL: 3 of 4 requests failed during the rollout \(502:1 refused:2\)\n$/)
})

t.test('a check that cannot finish is exit 1 with one line; the real connect says what is wrong with the kubeconfig', async t => {
  const out = io()
  t.equal(await runCli(['check', ...REQUIRED, '--kubeconfig', '/nonexistent/kubeconfig'], out), 1)
  t.match(out.err, /^lameduck check: cannot load kubeconfig \/nonexistent\/kubeconfig: .*\n$/)
  t.equal(out.out, '')
})

t.test('the real clock is the wall clock, and its sleep waits', async t => {
  const before = Date.now()
  await realClock.sleep(20)
  t.ok(realClock.now() >= before + 19, 'slept at least the time asked (1 ms of timer rounding allowed)')
})

/** A done cluster whose old Pod `web-old` leaves (watched), answered by the load 1.5 s after its deletion. */
function measuredCluster (sleepSeconds: number, over: Partial<Script> = {}): FakeCheckCluster {
  const report = JSON.parse(reportLine(['200', '200'])) as Record<string, unknown>
  const answered = { ...report, startedAt: 1_000_000, replicas: { 'web-old': { first: 0, last: 1500, answers: 2 } } }
  const preStop = { sleep: { seconds: sleepSeconds } }
  const leaving = {
    metadata: { name: 'web-old', deletionTimestamp: '2026-11-30T06:00:30Z' },
    spec: { containers: [{ name: 'web', lifecycle: { preStop } }] }
  }
  const annotations = { 'lameduck.dev/injected': `sleep=${sleepSeconds}s grace=40s` }
  return fakeCheckCluster({
    ...doneScript(JSON.stringify(answered)),
    appPods: [[], [{ metadata: { name: 'web-new', annotations } }]],
    events: [['pods', 'MODIFIED', leaving]],
    ...over
  })
}

t.test('--measure: the delay, the sleep to set and the kubectl line on stdout; --json and --svg written', async t => {
  const out = io()
  const dir = t.testdir({})
  const { cluster, patches } = measuredCluster(30)
  const code = await runCheckCommand([...REQUIRED, '--measure', '--measure-sleep', '30s', '--json', join(dir, 'm.json'), '--svg', join(dir, 'm.svg')], out, () => cluster, { now: () => 1_000_000, sleep: async () => {} })
  t.equal(code, 0, out.err)
  t.match(out.err, /^measuring deployment shop\/web through Service web on https:\/\/fake:6443\n/)
  t.match(out.out, /propagation delay: max 1\.50s, p99 1\.50s over 1 old Pod\n/)
  t.match(out.out, / {2}kubectl annotate namespace shop lameduck\.dev\/prestop-sleep=4s --overwrite\n$/)
  t.notMatch(out.out, /PASS|FAIL/, 'no verdict: the long pause says nothing about the configured one')
  t.equal(patches.length, 2, 'the override, then its removal')
  const json = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8')) as { mode: string, recommendation: { sleepSeconds: number }, pods: Array<{ pod: string }> }
  t.match(json, { mode: 'measure', recommendation: { sleepSeconds: 4 }, pods: [{ pod: 'web-old' }] })
  t.match(await readFile(join(dir, 'm.svg'), 'utf8'), /<g class="pod" id="pod-web-old">/)
})

t.test('a pass/fail check also reports the delay, and warns when the pause was not longer', async t => {
  const out = io()
  t.equal(
    await runCheckCommand(REQUIRED, out, () => measuredCluster(1).cluster, {
      now: () => 1_000_000,
      sleep: async () => {}
    }),
    0
  )
  t.match(out.out, /propagation delay: max 1\.50s.*\nWARNING: the old Pods' prestop-sleep \(1s\) is not longer than the measured propagation delay \(1\.50s\).*\nPASS: all 2 requests succeeded during the rollout\n$/s)
})

t.test('Ctrl-C: the run stops waiting and puts back what it changed; the handler is released', async t => {
  const out = io()
  const rolling = { metadata: { generation: 2 }, status: { observedGeneration: 1 } }
  const { cluster, patches } = measuredCluster(30, { deployments: [rolling] })
  let handler: (() => void) | undefined
  let released = 0
  const interruptible = Object.assign(out, {
    onInterrupt: (h: () => void) => {
      handler = h
      return () => {
        released++
      }
    }
  })
  const code = await runCheckCommand([...REQUIRED, '--measure'], interruptible, () => cluster, { now: () => 0, sleep: async () => { handler?.() } })
  t.equal(code, 130, 'the exit code of an interrupted command')
  t.match(out.err, /interrupted: putting back what was changed \(Ctrl-C again to leave it as it is\)\n/)
  t.match(out.err, /lameduck check: interrupted while waiting for deployment web to roll out\n$/)
  t.same(patches.at(-1), { spec: { template: { metadata: { annotations: { 'lameduck.dev/prestop-sleep': null } } } } })
  t.ok(released >= 1, 'a second Ctrl-C is not caught')
})

t.test('--url: the load from here (the real one, against a loopback server that names its replica)', async t => {
  const server = createServer((_req, res) => { res.setHeader('x-pod', 'web-old'); res.end('ok') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  const out = io()
  const { cluster } = measuredCluster(30)
  const code = await runCheckCommand([...REQUIRED, '--url', url, '--identify', 'header:X-Pod', '--rate', '50', '--duration', '1s'], out, () => cluster, { ...realClock, sleep: async () => {} })
  t.equal(code, 0, out.err)
  t.match(out.err, new RegExp(`checking deployment shop/web through ${url.replaceAll('.', '\\.')} on`))
  t.match(out.out, /Replicas\s+\[name:answers\]\s+web-old:50/)
  t.match(out.out, /Propagation delay through http:\/\/127\.0\.0\.1:\d+\/:/)
})

t.test('Ctrl-C with --scenario scale-in, where the Io catches it: the replicas are put back too, and the process\'s signals are left alone', async t => {
  const out = io()
  const unavailable = { status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 1 } }
  const { cluster, patches } = measuredCluster(30, { deployments: [unavailable] })
  let handler: (() => void) | undefined
  const before = process.listenerCount('SIGINT')
  let during = -1
  const interruptible = Object.assign(out, { onInterrupt: (h: () => void) => { handler = h; return () => undefined } })
  const code = await runCheckCommand([...REQUIRED, '--scenario', 'scale-in'], interruptible, () => cluster, { now: () => 0, sleep: async () => { during = process.listenerCount('SIGINT'); handler?.() } })
  t.equal(code, 130)
  t.equal(during, before, 'withRestore did not listen to the process as well')
  t.same(patches, [{ spec: { replicas: 1 } }, { spec: { replicas: 3 } }], 'scaled in, then back')
})

t.test('--load-cpu: read, checked, and only for the Job', async t => {
  t.match(readCheckOptions([...REQUIRED, '--load-cpu', '750m']), { loadCpu: '750m' })
  t.match(readCheckOptions([...REQUIRED, '--load-cpu', '1.5']), { loadCpu: '1.5' })
  t.notOk('loadCpu' in readCheckOptions(REQUIRED), 'sized from the rate unless told')
  for (const bad of ['lots', '0', '0m', '0.0', '1.2345', '100M', '']) {
    const out = io()
    t.equal(await runCli(['check', ...REQUIRED, '--load-cpu', bad], out), 2, bad)
    t.equal(out.err, `lameduck check: --load-cpu must be a CPU quantity such as 250m or 1, not ${JSON.stringify(bad)}\n`)
  }
  const out = io()
  t.equal(await runCli(['check', ...REQUIRED, '--load-cpu', '1', '--url', 'http://lb/'], out), 2)
  t.equal(out.err, 'lameduck check: --load-cpu is the load Job\'s; with --url the load runs here\n')
})

t.test('the Job\'s CPU request: sized from --rate, or --load-cpu', async t => {
  const cpu = (fake: FakeCheckCluster): unknown =>
    fake.created[0]!.spec!.template.spec!.containers[0]!.resources!.requests!.cpu
  const sized = fakeCheckCluster(doneScript(reportLine(['200'])))
  t.equal(await runCheckCommand([...REQUIRED, '--rate', '150'], io(), () => sized.cluster, clock), 0)
  t.equal(cpu(sized), '300m')
  const told = fakeCheckCluster(doneScript(reportLine(['200'])))
  t.equal(await runCheckCommand([...REQUIRED, '--load-cpu', '2'], io(), () => told.cluster, clock), 0)
  t.equal(cpu(told), '2')
})

/** A report line of a load that fell `lagMs` behind for its whole run, with `failed` timeouts. */
function laggingLine (failed: number, lagMs: number): string {
  const labels = Array.from({ length: 10 }, (_, i) => i < failed ? 'timeout' : '200')
  const report = JSON.parse(reportLine(labels)) as { timeline: object[] }
  const timeline = report.timeline.map(bucket => ({ ...bucket, lagMs }))
  return JSON.stringify({ ...report, timeline, maxLagMs: lagMs, lateShare: 1, maxStallMs: lagMs })
}

t.test('a load that fell behind: NO VERDICT with the lag and what to do, exit 3, not FAIL; in the JSON too', async t => {
  const out = io()
  const dir = t.testdir({})
  const lagging = doneCluster(laggingLine(6, 5210))
  const code = await runCheckCommand([...REQUIRED, '--json', join(dir, 'c.json')], out, () => lagging, clock)
  t.equal(code, 3)
  t.match(out.out, /^Lag\s+\[max, sent late, longest stall\]\s+5\.210s, 100\.00% over 100ms, 5\.210s$/m)
  t.match(out.out, /\nNO VERDICT: the load generator fell behind its schedule by up to 5\.210s .* Run it again with more CPU for the load Pod \(--load-cpu, now 100m\) or a rate below 10 requests\/s\n$/)
  t.notMatch(out.out, /FAIL|PASS/)
  const json = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8')) as { verdict: object }
  t.match(json.verdict, { passed: false, judged: false, line: /^NO VERDICT: / })
  const told = io()
  const passing = doneCluster(laggingLine(0, 5210))
  t.equal(await runCheckCommand([...REQUIRED, '--load-cpu', '250m'], told, () => passing, clock), 3)
  t.match(told.out, /more CPU for the load Pod \(--load-cpu, now 250m\)/)
  const judged = io()
  const close = doneCluster(laggingLine(6, 900))
  t.equal(await runCheckCommand(REQUIRED, judged, () => close, clock), 1, 'under a second behind: judged')
  t.match(judged.out, /FAIL: 6 of 10 requests failed/)
})

t.test('the kubelet\'s Warning events about the old Pods, per reason, on stdout and in the JSON', async t => {
  const out = io()
  const dir = t.testdir({})
  const { cluster } = measuredCluster(30)
  const pod = (name: string): object => ({ kind: 'Pod', name })
  cluster.listEvents = async () => [
    { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: pod('web-old') },
    { type: 'Warning', reason: 'Unhealthy', count: 2, involvedObject: pod('web-old') },
    { type: 'Warning', reason: 'FailedPreStopHook', involvedObject: pod('web-other') }
  ]
  const later = { now: () => 1_000_000, sleep: async () => {} }
  t.equal(await runCheckCommand([...REQUIRED, '--json', join(dir, 'c.json')], out, () => cluster, later), 0)
  t.match(out.out, /\nthe kubelet's Warning events about the old Pods: FailedPreStopHook 1, Unhealthy 2\nPASS: /)
  const json = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8')) as { warningEvents: object, verdict: object }
  t.same(json.warningEvents, { FailedPreStopHook: 1, Unhealthy: 2 })
  t.same(json.verdict, { passed: true, judged: true, line: 'PASS: all 2 requests succeeded during the rollout' })
  const forbidden = measuredCluster(30).cluster
  forbidden.listEvents = async () => {
    throw new Error('listing the events in shop: forbidden (403): events is forbidden')
  }
  const denied = io()
  t.equal(await runCheckCommand([...REQUIRED, '--json', join(dir, 'd.json')], denied, () => forbidden, later), 0)
  t.match(denied.err, /the kubelet's Warning events about the old Pods were not read: listing the events in shop: forbidden \(403\)/)
  t.notMatch(denied.out, /Warning events/)
  const deniedJson = JSON.parse(await readFile(join(dir, 'd.json'), 'utf8')) as object
  t.notOk('warningEvents' in deniedJson, 'not read: not in the JSON')
})

t.test('--measure with a load that fell behind: NO MEASUREMENT, exit 3, no sleep to set (stdout and JSON)', async t => {
  const out = io()
  const dir = t.testdir({})
  const report = JSON.parse(laggingLine(0, 5210)) as Record<string, unknown>
  const answered = { ...report, startedAt: 1_000_000, replicas: { 'web-old': { first: 0, last: 1500, answers: 2 } } }
  const { cluster } = measuredCluster(30, doneScript(JSON.stringify(answered)))
  const argv = [...REQUIRED, '--measure', '--measure-sleep', '30s', '--json', join(dir, 'm.json')]
  t.equal(await runCheckCommand(argv, out, () => cluster, { now: () => 1_000_000, sleep: async () => {} }), 3)
  t.match(out.out, /propagation delay: max 1\.50s.*\nNO MEASUREMENT: the load generator fell behind its schedule by up to 5\.210s .*--load-cpu, now 100m/s)
  t.notMatch(out.out, /recommended prestop-sleep|kubectl annotate/)
  const json = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8')) as { recommendation: unknown, warnings: string[] }
  t.equal(json.recommendation, null)
  t.match(json.warnings, [/^NO MEASUREMENT: /])
  const close = io()
  const behindLittle = {
    ...(JSON.parse(laggingLine(0, 900)) as object),
    startedAt: 1_000_000,
    replicas: answered.replicas
  }
  const judged = measuredCluster(30, doneScript(JSON.stringify(behindLittle))).cluster
  t.equal(await runCheckCommand(argv, close, () => judged, { now: () => 1_000_000, sleep: async () => {} }), 0)
  t.match(close.out, /recommended prestop-sleep: 4s/, 'under a second behind: measured')
})
