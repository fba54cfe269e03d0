/**
 * Pod creates with `dryRun=All` straight to a real API server, many at a time, returning what it
 * would store and each warning on its own (kubectl batches print warnings without saying which
 * object they belong to, and one kubectl process per Pod is slow). Credentials from the cluster's
 * kubeconfig: its CA and bearer token.
 */
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import { parse } from 'yaml'
import type { Pod } from '../../src/admission/pod.js'

/** What the API server answered: the stored Pod, or why it refused it. Warnings either way. */
export type DryRunResult =
  | { readonly accepted: true, readonly pod: Pod, readonly warnings: readonly string[] }
  | { readonly accepted: false, readonly message: string, readonly warnings: readonly string[] }

export interface DryRunClient {
  create(namespace: string, pod: Pod): Promise<DryRunResult>
  close(): Promise<void>
}

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string, 'certificate-authority-data': string } }>
  users: Array<{ user: { token: string } }>
}

/** `299 - "text"` (RFC 7234), the text's `\"` and `\\` unescaped. */
export function warningText (header: string): string {
  const match = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(header)
  return match === null ? header : match[1]!.replace(/\\(.)/g, '$1')
}

/** A client for the API server of `kubeconfigPath`. */
export async function dryRunClient (kubeconfigPath: string): Promise<DryRunClient> {
  const config = parse(await readFile(kubeconfigPath, 'utf8')) as Kubeconfig
  const { server, 'certificate-authority-data': ca } = config.clusters[0]!.cluster
  const dispatcher = new Agent({ connect: { ca: Buffer.from(ca, 'base64').toString() }, connections: 8 })
  const headers = { authorization: `Bearer ${config.users[0]!.user.token}`, 'content-type': 'application/json' }
  return {
    async create (namespace, pod) {
      const response = await request(`${server}/api/v1/namespaces/${namespace}/pods?dryRun=All`, { method: 'POST', headers, body: JSON.stringify(pod), dispatcher })
      const body = await response.body.json() as Pod & { message?: string }
      const header = response.headers.warning
      const warnings = (header === undefined ? [] : Array.isArray(header) ? header : [header]).map(warningText)
      return response.statusCode === 201
        ? { accepted: true, pod: body, warnings }
        : { accepted: false, message: body.message ?? String(response.statusCode), warnings }
    },
    close: async () => { await dispatcher.close() }
  }
}
