/**
 * A small Kubernetes API client over node:https: JSON requests, text reads and watches, nothing
 * generated. Every command that talks to a cluster goes through it (serve: Namespaces, /version,
 * Nodes, Leases, Secrets, the webhook configuration; certs; check: Deployments, Services, Jobs,
 * Pods, their logs, EndpointSlices, evictions), and @kubernetes/client-node's import alone costs
 * ~60 MB of RSS (BENCHMARKS.md, Memory). Node's own HTTP client, not undici: serve's server has
 * loaded it already, where undici adds ~10 MB of RSS (its HTTP parser is a WebAssembly module).
 */
import http from 'node:http'
import https from 'node:https'
import { StringDecoder } from 'node:string_decoder'
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
  /** GETs `path` as text (a Pod's log); '' for the API server's 204 No Content (an empty log). */
  text(path: string): Promise<string>
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<OpenWatch>
  close(): Promise<void>
}

/** Ordinary calls give up after this long without an answer (an admission waits on a cache miss's read). */
export const REQUEST_TIMEOUT_MS = 30_000

/**
 * A client for `access`. `timeoutMs` bounds the wait for an answer. Each request has a connection
 * of its own, closed after the answer: they are few (a cache miss, /version, the Lease now and
 * then), and a read that must answer an admission now cannot wait on a pooled connection that
 * went dead while idle (a NAT or load balancer dropping it silently); a watch holds its own.
 */
export function createKubeClient (access: KubeAccess, timeoutMs = REQUEST_TIMEOUT_MS): KubeClient {
  const url = new URL(access.server)
  const prefix = url.pathname.replace(/\/+$/, '')
  const secure = url.protocol === 'https:'
  const { ca, cert, key, rejectUnauthorized, servername } = access.tls
  const agent = secure ? new https.Agent({ ca, cert, key, rejectUnauthorized, servername }) : new http.Agent()

  /** Sends one request; resolves with the response once its headers are in. */
  async function send (
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    signal?: AbortSignal
  ): Promise<http.IncomingMessage> {
    const headers = {
      ...(await access.headers()),
      accept: 'application/json',
      ...(contentType === undefined ? {} : { 'content-type': contentType })
    }
    return await new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port,
          method,
          path: prefix + path,
          headers,
          agent,
          signal
        },
        resolve
      )
      req.on('error', reject)
      // Until the answer's headers: an API server that does not answer is a failure, not a wait.
      req.setTimeout(timeoutMs, () => {
        req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`))
      })
      req.end(body)
    })
  }

  return {
    server: access.server,
    async request<T> (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const res = await send(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? undefined : contentType
      )
      const text = await readAll(res)
      if (res.statusCode! >= 300) throw new KubeApiError(res.statusCode!, text, `${method} ${path}`)
      return JSON.parse(text) as T
    },
    async text (path: string): Promise<string> {
      const res = await send('GET', path, undefined, undefined)
      const text = await readAll(res)
      if (res.statusCode! >= 300) throw new KubeApiError(res.statusCode!, text, `GET ${path}`)
      return text
    },
    async watch (path, onEvent, signal) {
      const res = await send('GET', path, undefined, undefined, signal)
      // A quiet cluster sends nothing for minutes; informer.ts notices a half-open watch by its silence.
      res.socket.setTimeout(0)
      if (res.statusCode !== 200) throw new KubeApiError(res.statusCode!, await readAll(res), `watch ${path}`)
      return { ended: readLines(res, line => { onEvent(JSON.parse(line) as WatchEvent) }) }
    },
    async close () { agent.destroy() }
  }
}

async function readAll (res: http.IncomingMessage): Promise<string> {
  let text = ''
  res.setEncoding('utf8')
  for await (const chunk of res) text += chunk as string
  return text
}

/** Calls `onLine` for each complete line of `stream`; a line that throws ends it with that error. */
async function readLines (stream: http.IncomingMessage, onLine: (line: string) => void): Promise<void> {
  // A character may be split between two chunks.
  const decoder = new StringDecoder('utf8')
  let rest = ''
  try {
    for await (const chunk of stream) {
      rest += decoder.write(chunk as Buffer)
      let end: number
      while ((end = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, end)
        rest = rest.slice(end + 1)
        if (line.trim() !== '') onLine(line)
      }
    }
  } catch (err) {
    // A reset or an abort: Node fails the stream ('aborted'), so a cut is never taken for the API server's close.
    stream.destroy()
    throw err
  }
}
