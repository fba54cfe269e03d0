/**
 * The kubeconfig for a local cluster: the server URL, the API server's self-signed CA embedded
 * (so the file still works when copied elsewhere) and the admin bearer token.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'

/** The kubeconfig document for `server`, trusting the CA in `caPem`, authenticating with `token`. */
export function kubeconfig (server: string, caPem: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lameduck', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'lameduck', context: { cluster: 'lameduck', user: 'admin', namespace: 'default' } }],
    'current-context': 'lameduck'
  })
}

/** Writes the kubeconfig to `path`, reading the CA from the API server's certificate file. */
export async function writeKubeconfig (path: string, server: string, caFile: string, token: string): Promise<void> {
  await writeFile(path, kubeconfig(server, await readFile(caFile, 'utf8'), token), { mode: 0o600 })
}
