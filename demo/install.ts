/**
 * lameduck installed on the demo's cluster as a user installs it: its image (built from the
 * Dockerfile, pulled from the node's registry, under the chart's default name lameduck:0.1.0)
 * and `helm install` of the chart, with the same command the README gives. The replicas make their
 * own certificates; `--wait` returns once both are Ready, which they are only when the caBundle
 * trusts what they serve. The API server then calls them through their Service, as in any cluster.
 */
import { join } from 'node:path'
import type { Cluster } from '../control-plane/cluster.js'
import { repoRoot } from '../control-plane/paths.js'

/** `helm install lameduck ./charts/lameduck -n lameduck-system --create-namespace --wait`: resolves once both are Ready. */
export async function installLameduck (cluster: Cluster, log: (line: string) => void): Promise<void> {
  log('helm install lameduck ./charts/lameduck -n lameduck-system --create-namespace --wait')
  log('  (the replicas make their own CA and serving certificate, and are Ready once the caBundle trusts them)')
  const chart = join(repoRoot, 'charts/lameduck')
  const args = ['install', 'lameduck', chart, '--namespace', 'lameduck-system', '--create-namespace']
  args.push('--wait', '--timeout', '4m')
  const { code, stdout, stderr } = await cluster.helm(args, { timeoutMs: 300_000 })
  for (const line of stdout.trim().split('\n').slice(0, 5)) log(`  ${line}`)
  if (code !== 0) throw new Error(`helm install: ${stderr.trim()}`)
  log('lameduck is Ready; the API server calls it through Service lameduck-system/lameduck')
}
