import t from 'tap'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
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

t.test('preview of a Deployment in an annotated namespace', async t => {
  const out = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--namespaces-file', 'examples/namespaces.yaml'], out), 0)
  t.match(out.out, /preStop:\n\s+sleep:\n\s+seconds: 20/)
  t.match(out.out, /terminationGracePeriodSeconds: 45/)
  t.match(out.out, /lameduck.dev\/injected: sleep=20s grace=45s handler=sleep containers=web,nginx/)
  t.match(out.err, /Deployment shop\/web: container "nginx" runs nginx/)
  t.match(out.err, /Deployment shop\/web: terminationGracePeriodSeconds raised from 30 to 45/)
})

t.test('preview with namespace annotations given as flags, and the policy flags', async t => {
  const out = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--namespace-annotation', 'lameduck.dev/prestop-sleep=40s', '--annotation', 'lameduck.dev/prestop-handler=exec', '--max-sleep', '45s', '--max-grace', '50s'], out), 0)
  t.match(out.out, /command:\n\s+- sleep\n\s+- "40"/)
  t.match(out.out, /kill -QUIT \$w/)
  t.match(out.out, /terminationGracePeriodSeconds: 50/)
  t.match(out.err, /capped at 50 \(--max-grace\)/)
  const plain = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml'], plain), 0)
  t.match(plain.out, /seconds: 15/, 'no annotations: the server defaults')
  const exec = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--default-handler', 'exec'], exec), 0)
  t.match(exec.out, /command:\n\s+- sleep\n\s+- "15"/, '--default-handler exec: no annotation, the exec handler')
})

t.test('preview of the adaptive handler: --default-handler and --pause-image by their effect', async t => {
  const out = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--namespace-annotation', 'lameduck.dev/adaptive-max=90s', '--default-handler', 'adaptive', '--pause-image', 'registry.example/lameduck-pause:0.1.0'], out), 0)
  t.match(out.out, /initContainers:\n\s+- name: lameduck-pause\n\s+image: registry.example\/lameduck-pause:0.1.0\n/)
  t.match(out.out, /command:\n\s+- \/lameduck-pause\/lameduck-pause\n\s+- wait\n\s+- --min\n\s+- 15s\n\s+- --max\n\s+- 90s\n/)
  t.match(out.out, /volumes:\n\s+- name: lameduck-pause\n\s+emptyDir:/)
  t.match(out.out, /terminationGracePeriodSeconds: 105/, 'the maximum + the budget')
  t.match(out.out, /lameduck.dev\/injected: sleep=15s grace=1m45s handler=adaptive containers=web,nginx max=1m30s quiet=5s/)
  const bad = io()
  t.equal(await runCli(['preview', '-f', 'examples/deployment.yaml', '--default-handler', 'later'], bad), 2)
  t.match(bad.err, /^lameduck preview: --default-handler: "later" is not a handler/)
})

t.test('preview errors', async t => {
  const cases: Array<[string[], number, RegExp]> = [
    [['preview'], 2, /^lameduck preview: -f FILE is required\n$/],
    [['preview', '-f', 'nope.yaml'], 1, /^lameduck preview: ENOENT: no such file or directory, open 'nope.yaml'\n$/],
    [['preview', '-f', 'examples/deployment.yaml', '--namespace-annotation', 'novalue'], 2, /"novalue" is not KEY=VALUE/],
    [['preview', '-f', 'examples/deployment.yaml', '--namespace-annotation', 'a=b', '--namespaces-file', 'examples/namespaces.yaml'], 2, /exclude each other/],
    [['preview', '-f', 'package.json'], 1, /^lameduck preview: package\.json: document 1 is not a Kubernetes object \(no kind\)\n$/],
    [['preview', '-f', '-'], 2, /^lameduck preview: -f -: there is no stdin to read here\n$/]
  ]
  for (const [argv, code, message] of cases) {
    const out = io()
    t.equal(await runCli(argv, out), code, argv.join(' '))
    t.match(out.err, message, argv.join(' '))
  }
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

t.test('preview -f - reads stdin: the same output as from the file, errors named "stdin"', async t => {
  const file = io()
  await runCli(['preview', '-f', 'examples/deployment.yaml'], file)
  const piped = io()
  Object.assign(piped, { stdin: async () => await readFile('examples/deployment.yaml', 'utf8') })
  t.equal(await runCli(['preview', '-f', '-'], piped), 0)
  t.equal(piped.out, file.out)
  const bad = io()
  Object.assign(bad, { stdin: async () => 'a: [' })
  t.equal(await runCli(['preview', '-f', '-'], bad), 1)
  t.match(bad.err, /^lameduck preview: stdin: document 1: /)
})

t.test('the real process: preview -f - reads its standard input', async t => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/helpers/run-cli.ts', 'preview', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end('kind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: web, args: ["no"] }] }\n')
  const [out, code] = await Promise.all([text(child.stdout), new Promise(resolve => child.on('exit', resolve))])
  t.equal(code, 0)
  t.match(out, /args:\n\s+- "no"/)
  t.match(out, /seconds: 15/)
})
