import t from 'tap'
import { spawn } from 'node:child_process'
import { text } from 'node:stream/consumers'
import { main, onProcessInterrupt, runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'

function io (env: Record<string, string> = {}): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  return Object.assign(captured, {
    stdout: (text: string) => { captured.out += text },
    stderr: (text: string) => { captured.err += text },
    env
  })
}

t.test('help everywhere', async t => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const out = io()
    t.equal(await runCli(argv, out), 0)
    t.match(out.out, /Usage: lameduck <command>/)
  }
  const bare = io()
  t.equal(await runCli([], bare), 2, 'no command is a usage error, with the help')
  t.match(bare.out, /Commands:/)
  for (const command of ['serve', 'preview']) {
    const out = io()
    t.equal(await runCli([command, '--help'], out), 0)
    t.match(out.out, new RegExp(`Usage: lameduck ${command}`))
  }
  const serveHelp = io()
  await runCli(['serve', '-h'], serveHelp)
  t.match(serveHelp.out, /--max-sleep\s+no annotation can make the sleep longer \(default 300s\)/)
})

t.test('an unknown command or a bad flag is one line and exit 2', async t => {
  const unknown = io()
  t.equal(await runCli(['serv'], unknown), 2)
  t.equal(unknown.err, 'lameduck: unknown command "serv" (run "lameduck --help")\n')
  const bad = io()
  t.equal(await runCli(['serve', '--port', 'x', '--self-signed'], bad), 2)
  t.equal(bad.err, 'lameduck serve: --port: "x" is not a port (0-65535)\n')
  const previewBad = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--max-grace', '10'], previewBad), 2)
  t.match(previewBad.err, /^lameduck preview: --max-grace \(10s\) must be longer than --max-sleep \(300s\)/)
})

t.test('certs is a command: help, a key pair in a directory, a bad flag', async t => {
  const help = io()
  t.equal(await runCli(['certs', '--help'], help), 0)
  t.match(help.out, /^Usage: lameduck certs /)
  const dir = t.testdir({})
  const made = io()
  t.equal(await runCli(['certs', '--out', dir, '--days', '30'], made), 0)
  t.match(made.out, /serving certificate/i)
  const again = io()
  t.equal(await runCli(['certs', '--out', dir, '--days', '30'], again), 0, 'a second run with time left is a no-op')
  t.notSame(again.out, made.out)
  const bad = io()
  t.equal(await runCli(['certs', '--out', dir, '--days', 'soon'], bad), 2)
  t.match(bad.err, /^lameduck certs: --days/)
})

t.test('main() runs the CLI on the real process\'s streams and environment', async t => {
  const written: Array<[string, string]> = []
  const streams = { stdout: process.stdout.write, stderr: process.stderr.write }
  const restore = (): void => { process.stdout.write = streams.stdout; process.stderr.write = streams.stderr }
  t.teardown(restore)
  process.stdout.write = ((chunk: string) => { written.push(['stdout', chunk]); return true }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string) => { written.push(['stderr', chunk]); return true }) as typeof process.stderr.write
  const bad = await main(['serve', '--port', 'x', '--self-signed'])
  const help = await main(['--help'])
  restore()
  t.equal(bad, 2)
  t.equal(help, 0)
  t.same(written[0], ['stderr', 'lameduck serve: --port: "x" is not a port (0-65535)\n'])
  t.equal(written[1]?.[0], 'stdout')
  t.match(written[1]?.[1], /^lameduck: gives every Pod/)
})

t.test('onProcessInterrupt: SIGINT and SIGTERM call the handler until it is released', async t => {
  const calls: string[] = []
  const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]
  const release = onProcessInterrupt(() => { calls.push('called') })
  process.emit('SIGINT')
  process.emit('SIGTERM')
  t.same(calls, ['called', 'called'])
  release()
  t.same([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before, 'released: the signals end the process again')
})

t.test('the real process: preview -f - reads its standard input', async t => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/helpers/run-cli.ts', 'preview', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end('kind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: web, args: ["no"] }] }\n')
  const [out, code] = await Promise.all([text(child.stdout), new Promise(resolve => child.on('exit', resolve))])
  t.equal(code, 0)
  t.match(out, /args:\n\s+- "no"/)
  t.match(out, /seconds: 15/)
})
