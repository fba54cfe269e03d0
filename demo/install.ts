/**
 * lameduck installed on the demo's cluster as a user installs it: its image (built from the
 * Dockerfile) and its chart, packaged with that image pinned in its values, pushed to the nodes'
 * registry as a release publishes them (release/publish.ts), then `helm install` from that
 * registry, the README's command with the registry's address (helm trusts the registry's CA
 * through SSL_CERT_FILE: control-plane/cluster-handle.ts).
 * The replicas make their own certificates; `--wait` returns once both are Ready, which they are
 * only when the caBundle trusts what they serve. The API server then calls them through their
 * Service, as in any cluster.
 */
import type { Cluster } from '../control-plane/cluster.js'
import { publishToRegistry } from '../release/publish.js'

/** Publishes the chart to the nodes' registry and installs it from there; resolves once both replicas are Ready. */
export async function installLameduck (cluster: Cluster, log: (line: string) => void): Promise<void> {
  const { chart, version } = await publishToRegistry(cluster.registry!, log)
  log(`lameduck's image and chart pushed to the nodes' registry: ${chart} --version ${version}`)
  const args = ['install', 'lameduck', chart, '--version', version, '--namespace', 'lameduck-system',
    '--create-namespace', '--wait', '--timeout', '4m']
  log(`helm ${args.join(' ')}`)
  log('  (the replicas make their own CA and serving certificate, and are Ready once the caBundle trusts them)')
  const { code, stdout, stderr } = await cluster.helm(args, { timeoutMs: 300_000 })
  for (const line of stdout.trim().split('\n').slice(0, 5)) log(`  ${line}`)
  if (code !== 0) throw new Error(`helm install: ${stderr.trim()}`)
  log('lameduck is Ready; the API server calls it through Service lameduck-system/lameduck')
}
