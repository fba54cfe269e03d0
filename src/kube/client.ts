/**
 * A small Kubernetes API client over undici: JSON requests and watches, nothing generated. serve
 * needs a handful of calls (Namespaces, /version, Nodes, Leases, Secrets, the webhook
 * configuration), and @kubernetes/client-node's import alone costs ~60 MB of RSS (BENCHMARKS.md, Memory).
 */
import { StringDecoder } from 'node:string_decoder'
import { Pool } from 'undici'
import type { KubeAccess } from './access.js'

/** The API server answered with an error status; `body` is what it sent (a Status, usually). */
export class KubeApiError extends Error {
  constructor (readonly code: number, readonly body: string, what: string) {
    super(`${what}: the API server answered ${code}`)
    this.name = 'KubeApiError'
  }
}

/** One line of a watch: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (then `object` is a Status). */
export interface WatchEvent {
  readonly type: string
  readonly object: Record<string, unknown>
}

/** A watch the API server accepted; `ended` resolves when it closes the stream, rejects on a failure or abort. */
export interface OpenWatch {
  readonly ended: Promise<void>
}

/** The calls serve makes; paths are the API's (`/api/v1/namespaces`), with their query. */
export interface KubeClient {
  /** The API server's URL, for messages. */
  readonly server: string
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<OpenWatch>
  close(): Promise<void>
}

/** Ordinary calls give up after this long without an answer (an admission waits on a cache miss's read). */
export const REQUEST_TIMEOUT_MS = 30_000

/** A client for `access`: one pool of keep-alive connections to its server. */
export function createKubeClient (access: KubeAccess): KubeClient {
  const url = new URL(access.server)
  const prefix = url.pathname.replace(/\/+$/, '')
  const { ca, cert, key, rejectUnauthorized, servername } = access.tls
  const pool = new Pool(url.origin, { connect: { ca, cert, key, rejectUnauthorized, servername } })

  async function headers (contentType?: string): Promise<Record<string, string>> {
    return {
      ...await access.headers(),
      accept: 'application/json',
      ...contentType === undefined ? {} : { 'content-type': contentType }
    }
  }

  return {
    server: access.server,
    async request<T> (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const res = await pool.request({
        method: method as 'GET',
        path: prefix + path,
        headers: await headers(body === undefined ? undefined : contentType),
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS
      })
      const text = await res.body.text()
      if (res.statusCode >= 300) throw new KubeApiError(res.statusCode, text, `${method} ${path}`)
      return JSON.parse(text) as T
    },
    async watch (path, onEvent, signal) {
      const res = await pool.request({
        method: 'GET',
        path: prefix + path,
        headers: await headers(),
        signal,
        headersTimeout: REQUEST_TIMEOUT_MS,
        // A quiet cluster sends nothing for minutes; informer.ts notices a half-open watch by its silence.
        bodyTimeout: 0
      })
      if (res.statusCode !== 200) throw new KubeApiError(res.statusCode, await res.body.text(), `watch ${path}`)
      return { ended: readLines(res.body, line => { onEvent(JSON.parse(line) as WatchEvent) }) }
    },
    async close () { await pool.destroy() }
  }
}

/** Calls `onLine` for each complete line of `stream`; a line that throws ends it with that error. */
async function readLines (stream: AsyncIterable<Buffer> & { destroy: (err?: Error) => void }, onLine: (line: string) => void): Promise<void> {
  // A character may be split between two chunks.
  const decoder = new StringDecoder('utf8')
  let rest = ''
  try {
    for await (const chunk of stream) {
      rest += decoder.write(chunk)
      let end: number
      while ((end = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, end)
        rest = rest.slice(end + 1)
        if (line.trim() !== '') onLine(line)
      }
    }
  } catch (err) {
    stream.destroy()
    throw err
  }
}
