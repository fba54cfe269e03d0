/**
 * lameduck installed on the demo's cluster as a user installs it: its image (built from the
 * Dockerfile, pulled from the node's registry), `kubectl apply -k manifests/`, `lameduck certs`
 * for the key pair, the Secret and the caBundle, and the Deployment's two replicas Ready on the
 * node. The API server then calls it through its Service, as in any cluster.
 */
import { join } from 'node:path'
import type { Cluster } from '../control-plane/cluster.js'
import { repoRoot } from '../control-plane/paths.js'
import { runCerts } from '../certs-script/main.js'
import { kubectl } from './workloads.js'

/** Applies manifests/, makes the certificates, waits for the replicas; resolves once they are Ready. */
export async function installLameduck (cluster: Cluster, log: (line: string) => void): Promise<void> {
  log('kubectl apply -k manifests/')
  const applied = await kubectl(cluster, ['apply', '-k', join(repoRoot, 'manifests')])
  for (const line of applied.trim().split('\n')) log(`  ${line}`)
  log('lameduck certs --kubeconfig …: CA, serving certificate, Secrets and caBundle')
  const say = (text: string): void => { for (const line of text.trimEnd().split('\n')) log(`  ${line}`) }
  const code = await runCerts(['--kubeconfig', cluster.kubeconfigPath], { stdout: say, stderr: say, env: {} })
  if (code !== 0) throw new Error(`lameduck certs exited with ${code}`)
  log('waiting for the two replicas of lameduck to be Ready (their Secret volume, probes, minReadySeconds 5)')
  await kubectl(cluster, ['rollout', 'status', '-n', 'lameduck-system', 'deployment/lameduck', '--timeout=180s'])
  log('lameduck is Ready; the API server calls it through Service lameduck-system/lameduck')
}
