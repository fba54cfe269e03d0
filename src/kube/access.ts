/**
 * How to reach the API server: its URL, the TLS settings and the Authorization header. In a Pod
 * (`inClusterAccess`) the service account's token is re-read as the kubelet rotates it: a bound
 * token expires (an hour by default), so one read at start would fail the webhook's calls later.
 */
import { readFile } from 'node:fs/promises'
import { isIPv6 } from 'node:net'
import { join } from 'node:path'

/** The TLS side of a connection to the API server (node:tls options). */
export interface KubeTls {
  readonly ca?: string | Buffer
  readonly cert?: string | Buffer
  readonly key?: string | Buffer
  readonly rejectUnauthorized: boolean
  readonly servername?: string
}

/** Everything a request to the API server needs. */
export interface KubeAccess {
  /** `https://host:port`, possibly with a path prefix (a proxy in front of the API server). */
  readonly server: string
  readonly tls: KubeTls
  /** The credentials' headers for the next request (Authorization; none with client certificates). */
  headers(): Promise<Record<string, string>>
}

/** Which kubeconfig, and which of its contexts; undefined means the default. */
export interface KubeTarget {
  readonly kubeconfig: string | undefined
  readonly context?: string | undefined
}

/** Where the kubelet mounts the service account's token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
/** client-go re-reads the token file once a minute; the kubelet rotates it at 80% of its life. */
export const TOKEN_REREAD_MS = 60_000

/** A bearer token read from `file`, re-read when the last read is `maxAgeMs` old (and retried after a failed read). */
export function tokenFile (
  file: string,
  now: () => number = Date.now,
  maxAgeMs = TOKEN_REREAD_MS
): () => Promise<Record<string, string>> {
  let cached: { token: string, at: number } | undefined
  return async () => {
    if (cached !== undefined && now() - cached.at < maxAgeMs) return { authorization: `Bearer ${cached.token}` }
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw new Error(`cannot read the service account token ${file}: ${(err as Error).message}`, { cause: err })
    }
    cached = { token: text.trim(), at: now() }
    return { authorization: `Bearer ${cached.token}` }
  }
}

/**
 * The Pod's own access, as client-go's rest.InClusterConfig: `KUBERNETES_SERVICE_HOST` and `_PORT`
 * (an IPv6 address in brackets), the service account's CA and token. Throws when not in a Pod.
 */
export async function inClusterAccess (
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
  now: () => number = Date.now
): Promise<KubeAccess> {
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set')
  }
  const caFile = join(dir, 'ca.crt')
  let ca: Buffer
  try {
    ca = await readFile(caFile)
  } catch (err) {
    throw new Error(`cannot read the service account CA ${caFile}: ${(err as Error).message}`, { cause: err })
  }
  const headers = tokenFile(join(dir, 'token'), now)
  await headers() // fails now, with its reason, rather than on the first call
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { ca, rejectUnauthorized: true },
    headers
  }
}
