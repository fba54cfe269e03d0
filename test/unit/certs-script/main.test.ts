import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CERTS_HELP, runCerts, runCertsWith } from '../../../certs-script/main.js'
import type { Deps } from '../../../src/certs/run.js'
import type { ClusterApi, SecretContent, WebhookConfiguration } from '../../../src/certs/cluster-api.js'
import { splitPem } from '../../../src/certs/pem.js'
import { ConfigError } from '../../../src/common/flags.js'

/** A cluster that already has the manifests applied, in memory. */
function memoryCluster (): ClusterApi & { bundle: () => number } {
  const secrets = new Map<string, SecretContent>()
  let webhook: WebhookConfiguration = { name: 'lameduck', webhooks: [{ name: 'pods.lameduck.dev', caBundle: '' }] }
  return {
    server: 'https://memory',
    readSecret: async (namespace, name) => secrets.get(`${namespace}/${name}`),
    writeSecret: async (namespace, name, content) => { secrets.set(`${namespace}/${name}`, content); return 'created' },
    readWebhookConfiguration: async () => webhook,
    writeCaBundle: async (config, caBundle) => { webhook = { ...config, webhooks: [{ name: 'pods.lameduck.dev', caBundle }] } },
    bundle: () => splitPem(webhook.webhooks[0]!.caBundle).length
  }
}

function deps (cluster: ClusterApi): Deps & { lines: string[], sleeps: number[] } {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const lines: string[] = []
  const sleeps: number[] = []
  return {
    lines,
    sleeps,
    connect: async () => cluster,
    now: () => new Date(now),
    sleep: async ms => { sleeps.push(ms); now += ms },
    say: line => { lines.push(line) }
  }
}

t.test('--wait after a CA rotation waits out the overlap and drops the old CA in the same run', async t => {
  const cluster = memoryCluster()
  const d = deps(cluster)
  t.equal(await runCertsWith(['--apply'], d), 0)
  t.equal(cluster.bundle(), 1)
  d.lines.length = 0
  t.equal(await runCertsWith(['--apply', '--rotate-ca', '--wait', '--overlap', '2m', '--settle', '3s'], d), 0)
  t.same(d.sleeps, [3000, 120_000], 'the settle pause, then the overlap from when the Secret was written')
  t.equal(cluster.bundle(), 1, 'only the new CA is left')
  t.match(d.lines.join('\n'), /waiting 120s, until 2030-01-01T00:02:03.000Z, to drop the previous CA \(--wait\)\n.*kept[^\n]*\n.*kept[^\n]*\ncaBundle of MutatingWebhookConfiguration lameduck: dropping CN=lameduck-ca@/)
})

t.test('--wait with nothing pending returns at once; so does a run without --wait', async t => {
  const cluster = memoryCluster()
  const d = deps(cluster)
  await runCertsWith(['--apply'], d)
  t.equal(await runCertsWith(['--apply', '--wait'], d), 0)
  await runCertsWith(['--apply', '--rotate-ca'], d)
  t.equal(cluster.bundle(), 2, 'without --wait the old CA stays for a later run')
  t.same(d.sleeps, [5000])
})

t.test('a bad flag throws a ConfigError, for the CLI to answer with exit code 2', async t => {
  const error: unknown = await runCertsWith(['--days', 'x', '--out', 'd'], deps(memoryCluster())).catch((err: unknown) => err)
  t.ok(error instanceof ConfigError, String(error))
})

t.test('runCerts writes a key pair to --out and reports on stdout', async t => {
  const dir = t.testdir({})
  const out: string[] = []
  const io = { stdout: (text: string) => { out.push(text) }, stderr: () => { t.fail('nothing on stderr') }, env: {} }
  t.equal(await runCerts(['--out', dir], io), 0)
  t.match(out.join(''), /^CA CN=lameduck-ca@\d+: new, .*\nserving certificate CN=lameduck.lameduck-system.svc: new, .*\nwrote .*ca.key\n/)
  t.match(await readFile(join(dir, 'tls.crt'), 'utf8'), /^-----BEGIN CERTIFICATE-----/)
  out.length = 0
  t.equal(await runCerts(['--out', dir], io), 0)
  t.match(out.join(''), /\nnothing to do: /)
})

t.test('CERTS_HELP is the usage line first', async t => {
  t.match(CERTS_HELP, /^Usage: lameduck certs \(--out DIR \| --apply \| --kubeconfig FILE\) \[flags\]\n/)
})
