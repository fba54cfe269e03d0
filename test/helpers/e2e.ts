/**
 * Shared by the webhook's end-to-end tests (test/e2e/webhook*.test.ts): a real control plane,
 * `lameduck serve` from source as a child process, registered with the API server by URL as
 * control-plane/README.md describes, and kubectl runs that return the Pod the API server stored (or
 * would store, on a dry run) together with the warnings kubectl printed.
 */
import type { Test } from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { ensureBinaries, startCluster, type Cluster } from '../../control-plane/cluster.js'
import { waitForDefaultServiceAccount } from '../../control-plane/namespaces.js'
import { createSelfSignedKeyPair } from '../../src/tls/key-pair.js'
import { startServeProcess } from './serve-process.js'
import type { Container, Pod } from '../../src/admission/pod.js'

export type { Cluster, Container, Pod }

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Polls `fn` until it gives a value, or fails naming `what` after `timeoutMs`. */
export async function until<T> (what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(200)
  }
}

/**
 * The test file's cluster, stopped at its teardown. A first build of the binaries may still be
 * running (another file or `cluster:build` holds the lock): that wait gets its own long timeout.
 */
export async function clusterFor (t: Test, timeoutMs: number): Promise<Cluster> {
  t.setTimeout(45 * 60_000)
  await ensureBinaries({ log: line => { t.comment(line) } })
  t.setTimeout(timeoutMs)
  const cluster = await startCluster({ log: line => { t.comment(line) } })
  t.teardown(() => cluster.stop())
  return cluster
}

/** kubectl that throws with its stderr on a non-zero exit; warnings are on stderr too. */
export async function kubectl (
  cluster: Cluster,
  args: string[],
  input?: string
): Promise<{ stdout: string, stderr: string }> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input })
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`)
  return result
}

/** The lines kubectl printed as `Warning: ...` (the AdmissionResponse's warnings), without the prefix. */
export const warningsIn = (stderr: string): string[] =>
  stderr.split('\n').filter(line => line.startsWith('Warning: ')).map(line => line.slice('Warning: '.length))

/** Creates a namespace with labels and annotations in one step, and waits until it takes Pods. */
export async function namespace (
  cluster: Cluster,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {}
): Promise<void> {
  await kubectl(
    cluster,
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } })
  )
  await waitForDefaultServiceAccount(cluster, name)
}

/** The opt-in label of README.md's contract. */
export const OPTED_IN = { 'lameduck.dev/inject': 'enabled' }

/** A running `lameduck serve`. */
export interface Webhook {
  readonly pid: number
  readonly port: number
  readonly metricsPort: number
  /** The serving certificate: self-signed, so also the caBundle. */
  readonly cert: string
  readonly key: string
  /** The limits it logged at start (`--max-sleep` and so on, in seconds). */
  readonly limits: { maxSleep: number, maxGrace: number, defaultSleep: number, defaultBudget: number }
  /** Everything it wrote so far (pino JSON lines). */
  log(): string
  /** Its exit code, once it has exited (the signal's name after a signal). */
  readonly exited: Promise<number | string>
}

function httpsGet (url: string, ca: string): Promise<number> {
  return new Promise(resolve => {
    https.get(url, { ca }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', () => { resolve(0) })
  })
}

/**
 * Starts `lameduck serve` from source (startServeProcess) against `cluster`, with a key pair in
 * files whose certificate carries IP SAN 127.0.0.1, and waits for /readyz: the namespace cache is
 * synced and the API server's version read, so `auto` already means the native sleep.
 * Stopped by PID at teardown (SIGTERM, then SIGKILL after 10 s).
 */
export async function startWebhook (
  t: Test,
  cluster: Cluster,
  opts: {
    drainDelay?: string
    port?: number
    pair?: { cert: string, key: string }
    kubeconfigPath?: string
    args?: readonly string[]
  } = {}
): Promise<Webhook> {
  const dir = await mkdtemp(join(tmpdir(), 'lameduck-e2e-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pair = opts.pair ?? (await createSelfSignedKeyPair())
  await writeFile(join(dir, 'tls.crt'), pair.cert)
  await writeFile(join(dir, 'tls.key'), pair.key, { mode: 0o600 })
  const serve = await startServeProcess({
    args: [
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
      '--kubeconfig',
      opts.kubeconfigPath ?? cluster.kubeconfigPath,
      '--drain-delay',
      opts.drainDelay ?? '0s',
      ...(opts.args ?? [])
    ],
    ...(opts.port === undefined ? {} : { port: opts.port })
  })
  t.teardown(async () => {
    await serve.stop(10_000)
  })
  const serving = await until("lameduck serve's start line", async () => {
    const line = serve
      .log()
      .split('\n')
      .find(l => l.includes('lameduck is serving'))
    return line === undefined ? undefined : (JSON.parse(line) as { limits: Webhook['limits'] })
  })
  await until('lameduck /readyz', async () =>
    (await httpsGet(`https://127.0.0.1:${serve.port}/readyz`, pair.cert)) === 200 ? true : undefined
  )
  return {
    pid: serve.pid,
    port: serve.port,
    metricsPort: serve.metricsPort,
    cert: pair.cert,
    key: pair.key,
    limits: serving.limits,
    log: serve.log,
    exited: serve.exited
  }
}

/**
 * Registers the shipped MutatingWebhookConfiguration (manifests/base/webhook.yaml: rules, selectors,
 * matchConditions; the Pod webhook and the workload one) pointed at `webhook` by URL.
 * `filters: false` drops the namespace and object selectors and the matchConditions, so every
 * request reaches lameduck and its own checks decide. The timeout is raised to 10 s: on a busy
 * machine a slow answer must not pass for a skip.
 */
export async function registerWebhook (cluster: Cluster, webhook: Pick<Webhook, 'port' | 'cert'>, opts: { failurePolicy: 'Ignore' | 'Fail', filters?: boolean }): Promise<void> {
  const config = parse(await readFile(join(ROOT, 'manifests/base/webhook.yaml'), 'utf8')) as { webhooks: Array<Record<string, unknown>> }
  for (const hook of config.webhooks) {
    hook.clientConfig = { url: `https://127.0.0.1:${webhook.port}/mutate`, caBundle: Buffer.from(webhook.cert).toString('base64') }
    hook.failurePolicy = opts.failurePolicy
    hook.timeoutSeconds = 10
    if (opts.filters === false) {
      delete hook.namespaceSelector
      delete hook.objectSelector
      delete hook.matchConditions
    }
  }
  await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(config))
}

/** A Pod of one `web` container (or those given) with restartPolicy Always, named by generateName. */
export function podOf (
  opts: {
    labels?: Record<string, string>
    annotations?: Record<string, string>
    containers?: Container[]
    initContainers?: Container[]
    restartPolicy?: string
    name?: string
  } = {}
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(opts.name === undefined ? { generateName: 'web-' } : { name: opts.name }),
      labels: opts.labels ?? {},
      annotations: opts.annotations ?? {}
    },
    spec: {
      restartPolicy: opts.restartPolicy ?? 'Always',
      containers: opts.containers ?? [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }],
      ...(opts.initContainers === undefined ? {} : { initContainers: opts.initContainers })
    }
  }
}

/** `kubectl create -o json` (with `--dry-run=server` when asked): the Pod as stored, and the warnings. */
export async function createPod (
  cluster: Cluster,
  ns: string,
  pod: Pod,
  opts: { dryRun?: boolean } = {}
): Promise<{ pod: Pod, warnings: string[] }> {
  const { stdout, stderr } = await kubectl(
    cluster,
    ['create', '-n', ns, '-f', '-', '-o', 'json', ...(opts.dryRun === true ? ['--dry-run=server'] : [])],
    JSON.stringify(pod)
  )
  return { pod: JSON.parse(stdout) as Pod, warnings: warningsIn(stderr) }
}

/** The `lameduck.dev/injected` marker, if lameduck mutated the Pod. */
export const injected = (pod: Pod): string | undefined => pod.metadata?.annotations?.['lameduck.dev/injected']

/** The native preStop sleep of a container, if it has one. */
export const sleepOf = (container: Container | undefined): number | undefined =>
  (container?.lifecycle?.preStop as { sleep?: { seconds: number } } | undefined)?.sleep?.seconds

/**
 * Polls with dry-run creates in `ns` until lameduck's marker matches `marker`: the API server has loaded the
 * configuration and lameduck sees the namespace.
 */
export async function untilMutated (cluster: Cluster, ns: string, marker: RegExp, timeoutMs = 60_000): Promise<Pod> {
  return await until(`a dry run in ${ns} to be mutated as ${String(marker)}`, async () => {
    const { pod } = await createPod(cluster, ns, podOf(), { dryRun: true })
    return marker.test(injected(pod) ?? '') ? pod : undefined
  }, timeoutMs)
}

/** A counter of lameduck's Prometheus metrics (plain HTTP on its metrics port), 0 when absent. */
export async function metric (webhook: Webhook, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${webhook.metricsPort}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`${name}{${labels}}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}
