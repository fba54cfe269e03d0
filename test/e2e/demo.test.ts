// `npm run demo`, end to end, as a child process the way a user runs it (a shorter run: 2 replicas,
// 2 s propagation, 300 requests/s): without lameduck the rollout fails requests, with it none fail;
// the picture holds both runs. Then Ctrl-C in the middle of a run stops every process it started.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execFileSync } from 'node:child_process'
import { ensureBinaries } from '../../control-plane/cluster.js'
import { repoRoot } from '../../control-plane/paths.js'
import type { RunSummary } from '../../demo/summary.js'

t.setTimeout(45 * 60_000) // a first build of the control plane; later a cluster starts in seconds
await ensureBinaries({ log: line => { t.comment(line) } })
t.setTimeout(600_000)

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

t.test('a short demo: failures without lameduck, none with it, and the picture of both', async t => {
  const out = t.testdir({})
  const json = join(out, 'result.json')
  const run = demo(['--rate', '300', '--replicas', '2', '--propagation-delay', '2s', '--out', out, '--json', json])
  const code = await run.exit
  t.comment(run.output())
  t.equal(code, 0, 'the demo completes')
  t.match(run.output(), /lameduck\.dev\/injected: sleep=4s grace=30s handler=sleep containers=web/, 'the dry run shows the injection')
  t.match(run.output(), /preStop:\n.*sleep:\n.*seconds: 4/)
  t.match(run.output(), /plain\/web-\S+: preStop none, terminationGracePeriodSeconds 30/)
  t.match(run.output(), /shop\/web-\S+: preStop sleep 4s, terminationGracePeriodSeconds 30/)
  const result = JSON.parse(await readFile(json, 'utf8')) as { without: RunSummary, with: RunSummary }
  t.ok(result.without.requests >= 1000, `${result.without.requests} requests without lameduck`)
  t.ok(result.with.requests >= 1000, `${result.with.requests} requests with lameduck`)
  t.ok(result.without.failed > 0, `${result.without.failed} failed without lameduck`)
  t.equal(result.with.failed, 0, 'none failed with lameduck')
  t.equal(result.with.events.filter(e => e.kind === 'sigterm').length, 2, 'both old replicas got SIGTERM')
  t.match(run.output(), /without lameduck\s+with lameduck/, 'the table')
  const svg = await readFile(join(out, 'timeline.svg'), 'utf8')
  for (const id of ['without', 'with']) {
    const panel = svg.split(`<g class="run" id="run-${id}">`)[1]?.split('</g>')[0] ?? ''
    t.ok((panel.match(/<rect class="ok"/g) ?? []).length >= 30, `the ${id} series has its bars`)
    t.match(panel, /<line class="sigterm"/, `the ${id} series has its SIGTERM marks`)
    t.match(panel, /<line class="endpoint-removed"/, `the ${id} series has its endpoint removals`)
  }
  t.match(svg.split('<g class="run" id="run-without">')[1], /<rect class="failed"/, 'failures show without lameduck')
  t.notMatch(svg.split('<g class="run" id="run-with">')[1], /<rect class="failed"/, 'and not with it')
})

t.test('Ctrl-C during a run stops every process the demo started', async t => {
  const run = demo(['--rate', '100', '--replicas', '2', '--out', t.testdir({})])
  while (!/load: sent/.test(run.output())) {
    if (run.child.exitCode !== null) throw new Error(run.output())
    await sleep(100)
  }
  const started = descendants(run.child.pid!)
  t.ok(started.length >= 7, `${started.length} processes: control plane, webhook, replicas, nginx`)
  run.child.kill('SIGINT')
  t.equal(await run.exit, 130)
  t.match(run.output(), /SIGINT: stopping everything the demo started/)
  t.same(started.filter(running), [], 'none of them still runs')
})
