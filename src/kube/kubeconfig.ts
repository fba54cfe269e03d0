/**
 * Plain kubeconfig files: the cluster (server, CA data or file, insecure-skip-tls-verify,
 * tls-server-name) and the user (client certificate and key, token or token file, basic auth) of
 * the current or a named context. What this does not read — exec plugins (`aws eks get-token`),
 * auth-provider, impersonation, proxy-url — is named in `unsupported`, and connect.ts hands such a
 * file to @kubernetes/client-node instead.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { tokenFile, type KubeAccess } from './access.js'

/** What a kubeconfig gives: access, or why this reader cannot (the other client can). */
export type KubeconfigAccess = { readonly access: KubeAccess } | { readonly unsupported: string }

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The entry `name` of a kubeconfig list (`clusters`, `users`, `contexts`), its inner object. */
function entry (config: Json, list: string, field: string, name: unknown): Json {
  const items = Array.isArray(config[list]) ? config[list] as unknown[] : []
  const found = items.find(item => isObject(item) && item.name === name)
  if (!isObject(found)) throw new Error(`it has no ${field} ${JSON.stringify(name)}`)
  const inner = found[field]
  return isObject(inner) ? inner : {}
}

const text = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined

/**
 * Reads the kubeconfig `file` at `context` (default: its current-context). Throws an Error naming
 * what is wrong: unreadable, not YAML, no such context, cluster or user, no server.
 */
export async function readKubeconfig (file: string, context?: string): Promise<KubeconfigAccess> {
  let config: unknown
  try {
    // Loaded only here: a Pod's in-cluster access needs no YAML reader.
    const { parse } = await import('yaml')
    config = parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(`cannot load kubeconfig ${file}: ${(err as Error).message.split('\n')[0]!}`, { cause: err })
  }
  try {
    return await fromConfig(isObject(config) ? config : {}, dirname(file), context)
  } catch (err) {
    throw new Error(`kubeconfig ${file}: ${(err as Error).message}`)
  }
}

async function fromConfig (config: Json, base: string, contextName: string | undefined): Promise<KubeconfigAccess> {
  const name = contextName ?? text(config['current-context'])
  if (name === undefined) throw new Error('it names no current-context')
  const context = entry(config, 'contexts', 'context', name)
  const cluster = entry(config, 'clusters', 'cluster', context.cluster)
  const user = context.user === undefined ? {} : entry(config, 'users', 'user', context.user)
  const server = text(cluster.server)
  if (server === undefined) throw new Error(`its cluster ${JSON.stringify(context.cluster)} has no server`)
  for (const key of ['exec', 'auth-provider', 'as', 'as-groups', 'as-uid']) {
    if (user[key] !== undefined) return { unsupported: `its user uses ${key}` }
  }
  if (cluster['proxy-url'] !== undefined) return { unsupported: 'its cluster uses proxy-url' }
  const path = (v: unknown): string | undefined => text(v) === undefined ? undefined : resolve(base, v as string)
  const data = async (inline: unknown, file: unknown): Promise<Buffer | undefined> => {
    const b64 = text(inline)
    if (b64 !== undefined) return Buffer.from(b64, 'base64')
    const at = path(file)
    return at === undefined ? undefined : await readFile(at)
  }
  const ca = await data(cluster['certificate-authority-data'], cluster['certificate-authority'])
  const cert = await data(user['client-certificate-data'], user['client-certificate'])
  const key = await data(user['client-key-data'], user['client-key'])
  const token = text(user.token)
  const fromFile = text(user.tokenFile) === undefined ? undefined : tokenFile(path(user.tokenFile)!)
  const basic = text(user.username) === undefined ? undefined : `Basic ${Buffer.from(`${String(user.username)}:${String(user.password ?? '')}`).toString('base64')}`
  return {
    access: {
      server: server.replace(/\/+$/, ''),
      tls: { ca, cert, key, rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true, servername: text(cluster['tls-server-name']) },
      async headers () {
        if (token !== undefined) return { authorization: `Bearer ${token}` }
        if (fromFile !== undefined) return await fromFile()
        return basic === undefined ? {} : { authorization: basic }
      }
    }
  }
}
