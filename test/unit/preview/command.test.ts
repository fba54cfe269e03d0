// lameduck preview through the CLI: its flags by their effect, the namespaces from a file or from
// flags, stdin, and its errors (one line; exit 2 for a bad flag, 1 for bad input).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { runCli } from '../../../src/cli/main.js'
import type { Io } from '../../../src/common/io.js'

function io (env: Record<string, string> = {}): Io & { out: string, err: string } {
  const captured = { out: '', err: '' }
  return Object.assign(captured, {
    stdout: (text: string) => { captured.out += text },
    stderr: (text: string) => { captured.err += text },
    env
  })
}

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
