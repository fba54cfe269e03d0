/**
 * A steady stream of POST /mutate requests for the reliability suite: one every `1000 / rate` ms,
 * whatever the answers (an open model, so a stalled server shows up as failures, not as a slower
 * client). Over keep-alive connections like the API server's, or a new TLS connection for each
 * request, so that every one of them is a handshake with the certificate of the moment.
 */
import { Client, Pool, type Dispatcher } from 'undici'
import type { ConnectionOptions } from 'node:tls'

/** One request: when it was sent (performance.now()), and how it ended. */
export interface Sent {
  readonly at: number
  status?: number
  error?: string
}

/** Options of `startSteadyLoad`. */
export interface SteadyLoadOptions {
  origin: string
  body: string
  rate: number
  /** TLS options: `ca` and `servername` to verify the server, or `rejectUnauthorized: false`. */
  tls: ConnectionOptions
  /** A new connection (and handshake) per request instead of a keep-alive pool. */
  newConnections?: boolean
  /** Give up on one request after this long (default 10 s). */
  timeoutMs?: number
}

/** Starts the load; `stop()` stops sending, waits for the answers and returns every request. */
export function startSteadyLoad (o: SteadyLoadOptions): { sent: Sent[], stop: () => Promise<Sent[]> } {
  const sent: Sent[] = []
  const inflight = new Set<Promise<void>>()
  const timeoutMs = o.timeoutMs ?? 10_000
  const pool =
    o.newConnections === true
      ? undefined
      : new Pool(o.origin, {
          connections: 8,
          connect: { ...o.tls, maxCachedSessions: 0 },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs
        })
  const one = async (record: Sent): Promise<void> => {
    const dispatcher: Dispatcher =
      pool ??
      new Client(o.origin, {
        connect: { ...o.tls, maxCachedSessions: 0 },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      })
    try {
      const response = await dispatcher.request({ method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json' }, body: o.body })
      await response.body.text()
      record.status = response.statusCode
    } catch (err) {
      record.error = (err as { code?: string }).code ?? String(err)
    } finally {
      if (pool === undefined) await dispatcher.destroy()
    }
  }
  const timer = setInterval(() => {
    const record: Sent = { at: performance.now() }
    sent.push(record)
    const done = one(record).finally(() => inflight.delete(done))
    inflight.add(done)
  }, 1000 / o.rate)
  return {
    sent,
    stop: async () => {
      clearInterval(timer)
      await Promise.all([...inflight])
      await pool?.close()
      return sent
    }
  }
}

/** A request that did not end in HTTP 200. */
export const failed = (record: Sent): boolean => record.status !== 200
