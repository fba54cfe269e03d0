// `npm run demo`, end to end, as a child process the way a user runs it (a shorter run: 2 replicas,
// 2 s propagation, 150 requests/s on each path), on a real node: without lameduck the rollout fails
// requests through nginx, with it none fail on either path; the picture holds both runs' paths. Then
// Ctrl-C in the middle of a run stops every process it started. A node test: one at a time.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execFileSync } from 'node:child_process'
import { ensureBinaries } from '../../control-plane/cluster.js'
import { ensureLameduckImage } from '../../control-plane/images/lameduck-image.js'
import { repoRoot } from '../../control-plane/paths.js'
import type { ScenarioResult } from '../../demo/run.js'

t.setTimeout(60 * 60_000) // a first build of the binaries and the image; later a cluster starts in seconds
await ensureBinaries({ log: line => { t.comment(line) }, node: true })
await ensureLameduckImage(line => { t.comment(line) })
t.setTimeout(900_000)

/** The demo as a child; its output collected; SIGKILLed at teardown if still running. */
function demo (args: string[]): { child: ChildProcess, output: () => string, exit: Promise<number | string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'demo/main.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exit = new Promise<number | string>(resolve => child.on('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown') }))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, output: () => output, exit }
}

/** The PIDs of `pid`'s descendants, now. */
function descendants (pid: number): number[] {
  const lines = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n').map(line => line.trim().split(/\s+/).map(Number))
  const found: number[] = []
  const walk = (parent: number): void => {
    for (const [child, ppid] of lines) if (ppid === parent) { found.push(child!); walk(child!) }
  }
  walk(pid)
  return found
}

/** Running, not a zombie waiting for PID 1 to reap it. */
function running (pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

t.test('bad flags: one line, exit 2; --help: exit 0', async t => {
  const bad = demo(['--replicas', 'many'])
  t.equal(await bad.exit, 2)
  t.match(bad.output(), /^demo: --replicas: "many" is not a whole number from 1 to 10 \(see npm run demo -- --help\)\n$/)
  const help = demo(['--help'])
  t.equal(await help.exit, 0)
  t.match(help.output(), /^Usage: npm run demo -- \[flags\]/)
})

t.test('a short demo: failures without lameduck, none with it, on both paths, and the picture of them', async t => {
  const out = t.testdir({})
  const json = join(out, 'result.json')
  const run = demo(['--rate', '150', '--replicas', '2', '--propagation-delay', '2s', '--out', out, '--json', json])
  const code = await run.exit
  t.comment(run.output())
  t.equal(code, 0, 'the demo completes')
  t.match(run.output(), /lameduck\.dev\/injected: sleep=4s grace=30s handler=sleep containers=web/, 'the dry run shows the injection')
  t.match(run.output(), /plain\/web-\S+: preStop none, terminationGracePeriodSeconds 30/)
  t.match(run.output(), /shop\/web-\S+: preStop sleep 4s, terminationGracePeriodSeconds 30/)
  t.match(run.output(), /kubelet {2}Killing web-/, 'the kubelet\'s events')
  // --json has one object per scenario; the default scenario is the rollout.
  const { rollout: result, ...others } = JSON.parse(await readFile(json, 'utf8')) as { rollout: ScenarioResult }
  t.same(Object.keys(others), [], 'the rollout alone by default')
  for (const id of ['without', 'with'] as const) {
    for (const path of ['clusterIP', 'loadBalancer'] as const) {
      t.ok(result[id][path].requests >= 1000, `${result[id][path].requests} requests ${id} lameduck, ${path}`)
      // A load more than a second behind has no verdict, and its path is left out of the totals below.
      t.equal(result[id][path].noVerdict, undefined, `${id} lameduck, ${path}: the load kept its schedule`)
    }
    t.equal(result[id].requests, result[id].clusterIP.requests + result[id].loadBalancer.requests, `${id}: requests over both paths`)
    t.equal(result[id].failed, result[id].clusterIP.failed + result[id].loadBalancer.failed, `${id}: failed over both paths`)
  }
  t.ok(result.without.loadBalancer.failed > 0, `${result.without.loadBalancer.failed} failed through nginx without lameduck`)
  t.comment(`through the ClusterIP without lameduck: ${result.without.clusterIP.failed} failed`)
  t.equal(result.with.failed, 0, 'none failed with lameduck, on either path')
  t.equal(result.with.loadBalancer.events.filter(e => e.kind === 'pod-deleted').length, 2, 'both old Pods were deleted by the rollout')
  t.match(run.output(), /without lameduck\s+without lameduck\s+with lameduck\s+with lameduck/, 'the table')
  const svg = await readFile(join(out, 'timeline.svg'), 'utf8')
  for (const id of ['rollout-without-clusterIP', 'rollout-without-loadBalancer', 'rollout-with-clusterIP', 'rollout-with-loadBalancer']) {
    const panel = svg.split(`<g class="run" id="run-${id}">`)[1]?.split('</g>')[0] ?? ''
    t.ok((panel.match(/<rect class="ok"/g) ?? []).length >= 30, `the ${id} series has its bars`)
    t.match(panel, /<line class="pod-deleted"/, `the ${id} series has its Pod deletions`)
    t.match(panel, /<line class="endpoint-not-ready"/, `the ${id} series has its EndpointSlice updates`)
  }
  t.match(svg.split('<g class="run" id="run-rollout-without-loadBalancer">')[1], /<rect class="failed"/, 'failures show without lameduck')
  t.notMatch(svg.split('<g class="run" id="run-rollout-with-clusterIP">')[1], /<rect class="failed"/, 'and not with it')
})

t.test('Ctrl-C during a run stops every process the demo started', async t => {
  const run = demo(['--rate', '100', '--replicas', '2', '--out', t.testdir({})])
  while (!/load through nginx: sent/.test(run.output())) {
    if (run.child.exitCode !== null) throw new Error(run.output())
    await sleep(100)
  }
  const started = descendants(run.child.pid!)
  t.ok(started.length >= 8, `${started.length} processes: control plane, node, nginx`)
  run.child.kill('SIGINT')
  t.equal(await run.exit, 130)
  t.match(run.output(), /SIGINT: stopping everything the demo started/)
  t.same(started.filter(running), [], 'none of them still runs')
})
