/**
 * What every command that talks to a cluster shares (`serve`, `certs`, `check`): one way to load
 * the kubeconfig, and one line for a failed API call that says what was being done and what the API
 * server (or the network) said.
 */
import { ApiException, KubeConfig } from '@kubernetes/client-node'

/** Which kubeconfig, and which of its contexts; undefined means the default. */
export interface ClusterTarget {
  readonly kubeconfig: string | undefined
  readonly context: string | undefined
}

/** Where client-node points when it found no kubeconfig and is not in a Pod. */
const NOWHERE = 'http://localhost:8080'

/** Loads the kubeconfig (the target's file, or the default: $KUBECONFIG, ~/.kube/config, in-cluster), at the target's context; one line saying what is wrong with it. */
export function loadKubeConfig (target: ClusterTarget): KubeConfig {
  const config = new KubeConfig()
  try {
    if (target.kubeconfig === undefined) config.loadFromDefault()
    else config.loadFromFile(target.kubeconfig)
  } catch (err) {
    throw new Error(`cannot load kubeconfig ${target.kubeconfig ?? '(default)'}: ${(err as Error).message}`)
  }
  if (target.context !== undefined) {
    if (config.getContextObject(target.context) === null) throw new Error(`the kubeconfig has no context ${JSON.stringify(target.context)}`)
    config.setCurrentContext(target.context)
  }
  const server = config.getCurrentCluster()?.server
  if (server === undefined) throw new Error('the kubeconfig names no current cluster')
  return config
}

/** The message of the Status the API server sent, or the first line of whatever else it sent. */
function statusMessage (body: unknown): string | undefined {
  if (typeof body !== 'string' || body.trim() === '') return undefined
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message
    if (typeof message === 'string') return message
  } catch { /* not a Status: its text says more than nothing */ }
  return body.trim().split('\n')[0]!.slice(0, 200)
}

/** One line for a failed call: `what` failed, because of the API server's answer or the network. */
export function explain (err: unknown, what: string, server: string): Error {
  if (err instanceof ApiException) {
    const code = err.code as number
    const why = code === 401 ? 'the API server did not accept the credentials (401)' : code === 403 ? 'forbidden (403)' : `the API server answered ${code}`
    const message = statusMessage(err.body)
    return new Error(`${what}: ${why}${message === undefined ? '' : `: ${message}`}`)
  }
  const hint = server === NOWHERE ? ' (no kubeconfig found: give --kubeconfig, or set KUBECONFIG)' : ''
  return new Error(`${what}: cannot reach the API server at ${server}${hint}: ${networkMessage(err as Error)}`)
}

/** client-node 2 fetches with undici, whose error says only "fetch failed"; the reason (ECONNREFUSED…) is its cause. */
function networkMessage (err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined
  return cause === undefined || err.message.includes(cause) ? err.message : `${err.message}: ${cause}`
}
