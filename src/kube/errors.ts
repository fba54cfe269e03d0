/**
 * One line for a failed API call, the same for every command (serve, certs, check): what was being
 * done, and what the API server or the network said.
 */
import { KubeApiError } from './client.js'

/** Where a command points when it found no kubeconfig and is not in a Pod (as client-node does). */
export const NOWHERE = 'http://localhost:8080'

/** The message of the Status the API server sent, or the first line of whatever else it sent. */
export function statusMessage (body: string): string | undefined {
  if (body.trim() === '') return undefined
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message
    if (typeof message === 'string') return message
  } catch { /* not a Status: its text says more than nothing */ }
  return body.trim().split('\n')[0]!.slice(0, 200)
}

/** The HTTP status of an API server's answer, or undefined for a network failure. */
export const statusOf = (err: unknown): number | undefined => err instanceof KubeApiError ? err.code : undefined

/** One line for a failed call: `what` failed, because of the API server's answer or the network. */
export function explain (err: unknown, what: string, server: string): Error {
  if (err instanceof KubeApiError) {
    const code = err.code
    const why = code === 401 ? 'the API server did not accept the credentials (401)' : code === 403 ? 'forbidden (403)' : `the API server answered ${code}`
    const message = statusMessage(err.body)
    return new Error(`${what}: ${why}${message === undefined ? '' : `: ${message}`}`, { cause: err })
  }
  const hint = server === NOWHERE ? ' (no kubeconfig found: give --kubeconfig, or set KUBECONFIG)' : ''
  return new Error(`${what}: cannot reach the API server at ${server}${hint}: ${networkMessage(err as Error)}`, { cause: err })
}

/** An error that wraps another ("request failed") says its reason (ECONNREFUSED…) too, once. */
function networkMessage (err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined
  return cause === undefined || err.message.includes(cause) ? err.message : `${err.message}: ${cause}`
}
