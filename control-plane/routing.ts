/**
 * The shipped `manifests/` as kustomize builds them, routed to a webhook on this machine: the
 * Service becomes `type: ExternalName, externalName: localhost` on the webhook's local port, so the
 * API server dials localhost with SNI lameduck.lameduck-system.svc and checks the certificate for that
 * name, as in a cluster (control-plane/README.md, "How it runs": Webhooks). Never a
 * ClusterIP: nothing listens there, and traffic stays on loopback.
 */
import { join } from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import type { Cluster } from './cluster.js'
import { repoRoot } from './paths.js'

/**
 * Multi-document YAML of `manifests/` (or another kustomization of it, e.g. `manifests/fail-closed`)
 * with the Service, and the webhook's port, pointing at `port` on localhost.
 */
export async function routedManifests (cluster: Cluster, port: number, kustomization = 'manifests'): Promise<string> {
  type Doc = { kind: string, spec: unknown, webhooks: Array<{ clientConfig: { service: { port: number } } }> }
  const built = await cluster.kubectl(['kustomize', join(repoRoot, kustomization)])
  if (built.code !== 0) throw new Error(`kubectl kustomize ${kustomization}: ${built.stderr.trim()}`)
  const docs = parseAllDocuments(built.stdout).map(doc => doc.toJS() as Doc)
  for (const doc of docs) {
    if (doc.kind === 'Service') doc.spec = { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port, protocol: 'TCP' }] }
    if (doc.kind === 'MutatingWebhookConfiguration') for (const hook of doc.webhooks) hook.clientConfig.service.port = port
  }
  return docs.map(doc => stringify(doc)).join('---\n')
}
