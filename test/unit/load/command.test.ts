import t from 'tap'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'
import { parseJsonReport } from '../../../src/load/report.js'

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

t.test('loads a loopback server and reports, with the JSON report in a file and on stdout', async t => {
  let seen = 0
  const server = createServer((_req, res) => { seen++; res.statusCode = seen % 10 === 0 ? 503 : 200; res.end('ok') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-load-'))
  const file = io()
  t.equal(await runCli(['load', '--url', url, '--rate', '50', '--duration', '1s', '--connections', '4', '--timeout', '2s', '--json', join(dir, 'r.json')], file), 0)
  t.match(file.out, /Requests\s+\[total, rate, throughput\]\s+50,/)
  t.match(file.out, /Status Codes\s+\[code:count\]\s+200:45 503:5/)
  t.match(file.err, /sent \d+, answered \d+, failed \d+/)
  const report = parseJsonReport(await readFile(join(dir, 'r.json'), 'utf8'))
  t.equal(report.requests, 50)
  t.equal(report.failed, 5)
  const stdout = io()
  t.equal(await runCli(['load', '--url', url, '--rate', '20', '--duration', '1', '--json', '-'], stdout), 0)
  const last = stdout.out.trim().split('\n').at(-1)!
  t.equal(parseJsonReport(last).requests, 20, 'the last stdout line is the JSON report')
  const fresh = io()
  t.equal(await runCli(['load', '--url', url, '--rate', '10', '--duration', '1s', '--no-keep-alive'], fresh), 0)
  t.match(fresh.out, /Status Codes\s+\[code:count\]\s+200:\d+/)
  t.equal(seen, 80)
  const identified = io()
  t.equal(await runCli(['load', '--url', url, '--rate', '10', '--duration', '1s', '--identify', 'body', '--json', '-'], identified), 0)
  t.same(Object.keys(parseJsonReport(identified.out.trim().split('\n').at(-1)!).replicas!), ['ok'], 'each replica, by the name its answers give')
})

t.test('the JSON report says how far the generator fell behind, and the text says it in one line', async t => {
  const server = createServer((_req, res) => { res.end('ok') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  // The process is busy for 500 ms in the middle of the run, as a starved load Pod would be.
  setTimeout(() => { const until = performance.now() + 500; while (performance.now() < until); }, 400)
  const out = io()
  t.equal(await runCli(['load', '--url', url, '--rate', '50', '--duration', '2s', '--json', '-'], out), 0)
  const report = parseJsonReport(out.out.trim().split('\n').at(-1)!)
  t.ok(report.maxLagMs! >= 400, `maxLagMs ${report.maxLagMs}`)
  const late = report.lateShare!
  t.ok(late > 0.1 && late < 0.4, `lateShare ${late}: the requests due in the stall`)
  t.ok(report.maxStallMs! >= 400, `maxStallMs ${report.maxStallMs}`)
  t.ok(report.timeline.some(b => b.lagMs! >= 400), 'the timeline says when')
  t.match(out.out, /^Lag {11}\[max, sent late, longest stall\]\s+\d\S+s, \d+\.\d\d% over 100ms, \d\S+s$/m)
})

t.test('bad flags are one line and exit 2', async t => {
  const cases: Array<[string[], RegExp]> = [
    [['load'], /--url is required/],
    [['load', '--url', 'http://127.0.0.1:1/', '--duration', '1s'], /--rate must be a number\n$/],
    [['load', '--url', 'http://127.0.0.1:1/', '--rate', 'fast', '--duration', '1s'], /--rate must be a number, not "fast"/],
    [['load', '--url', 'http://127.0.0.1:1/', '--rate', '10'], /--duration is required/],
    [['load', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--duration', 'ages'], /--duration: "ages" is not a duration/],
    [['load', '--url', 'ftp://127.0.0.1/', '--rate', '10', '--duration', '1s'], /url/i],
    [['load', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--duration', '1s', '--connections', ' '], /--connections must be a number/],
    [['load', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--duration', '1s', '--identify', 'pod'], /^lameduck load: --identify: "pod" is not one of/]
  ]
  for (const [argv, message] of cases) {
    const out = io()
    t.equal(await runCli(argv, out), 2, argv.join(' '))
    t.match(out.err, message, argv.join(' '))
    t.equal(out.err.split('\n').length, 2, 'one line')
  }
})
