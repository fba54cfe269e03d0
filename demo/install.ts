/**
 * lameduck installed on the demo's control plane as a user would install it: the shipped
 * `manifests/` base applied, `lameduck certs` for the key pair and the caBundle, and the webhook
 * itself, `lameduck serve` from source, running on this machine. Only the routing differs from a
 * cluster: the Service becomes `type: ExternalName, externalName: localhost` on the webhook's local
 * port, so the API server dials localhost with SNI lameduck.lameduck-system.svc, and the certificate
 * is checked for that name as in production (control-plane/README.md). The Deployment in the base is
 * created too but never runs: there is no kubelet.
 */
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster } from '../control-plane/cluster.js'
import { childEnv } from '../control-plane/env.js'
import { repoRoot } from '../control-plane/paths.js'
import { freePorts } from '../control-plane/ports.js'
import { routedManifests } from '../control-plane/routing.js'
import { runCerts } from '../certs-script/main.js'
import type { Child, Children } from './children.js'

/** `kubectl ARGS`, its stdout; throws with kubectl's stderr on a non-zero exit. */
export async function kubectl (cluster: Cluster, args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input })
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

/** Applies the routed base, makes the certificates, starts the webhook; resolves once it serves. */
export async function installLameduck (cluster: Cluster, children: Children, opts: { dir: string, keep: boolean, log: (line: string) => void }): Promise<Child> {
  const { log, dir } = opts
  const [port] = await freePorts(1) as [number]
  log(`applying manifests/ (the Service routed to localhost:${port})`)
  const applied = await kubectl(cluster, ['apply', '-f', '-'], await routedManifests(cluster, port))
  for (const line of applied.trim().split('\n')) log(`  ${line}`)
  log('lameduck certs: CA, serving certificate, Secrets and caBundle')
  const say = (text: string): void => { for (const line of text.trimEnd().split('\n')) log(`  ${line}`) }
  await runCerts(['--kubeconfig', cluster.kubeconfigPath, '--out', dir], { stdout: say, stderr: say, env: {} })
  const logFile = join(dir, 'webhook.log')
  const webhook = children.start({
    name: 'lameduck serve',
    command: process.execPath,
    args: ['--import', 'tsx', join(repoRoot, 'demo/lameduck-cli.ts'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--metrics-port', '0',
      '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--kubeconfig', cluster.kubeconfigPath, '--drain-delay', '0s'],
    cwd: repoRoot,
    env: childEnv(),
    logFile,
    detached: opts.keep
  })
  const deadline = Date.now() + 60_000
  for (;;) {
    const text = await readFile(logFile, 'utf8').catch(() => '')
    if (text.includes('lameduck is serving')) break
    if (!webhook.alive() || Date.now() > deadline) throw new Error(`lameduck serve did not start; last lines of ${logFile}:\n${text.trim().split('\n').slice(-5).join('\n')}`)
    await sleep(100)
  }
  log(`lameduck serve is up (PID ${webhook.pid}, https://127.0.0.1:${port}, log ${logFile})`)
  return webhook
}
