/**
 * Shared by the TLS tests: two self-signed pairs, readable loggers, and TLS servers and clients on
 * loopback that are closed when the test ends.
 */
import type { Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import { pino, type Logger } from 'pino'
import { createSelfSignedKeyPair } from '../../src/tls/key-pair.js'
import type { KeyPair } from '../../src/admission/types.js'

export const [A, B] = await Promise.all([createSelfSignedKeyPair(), createSelfSignedKeyPair({ dnsNames: ['b.example'] })]) as [KeyPair, KeyPair]
export const fingerprint = (pair: KeyPair): string => new X509Certificate(pair.cert).fingerprint256
export const silent = pino({ level: 'silent' })

/** A logger whose lines the test can read. */
export function capture (): {
  logger: Logger
  lines: Array<{ level: number; msg: string; err?: { message: string } }>
} {
  const lines: Array<{ level: number; msg: string; err?: { message: string } }> = []
  return {
    lines,
    logger: pino(
      { level: 'info' },
      {
        write: (line: string) => {
          lines.push(JSON.parse(line))
        }
      }
    )
  }
}

/** Polls `ok` every 10 ms until it holds, or fails after `ms`. */
export async function waitFor (what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Listens on a loopback port, closed at teardown. */
export async function listen (t: Test, server: tls.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => { resolve() })))
  return (server.address() as AddressInfo).port
}

/** Opens a TLS connection; resolves once the handshake is done, with the socket closed at teardown. */
export function connect (t: Test, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', ...opts }, () => { resolve(socket) })
    socket.on('error', reject)
    t.teardown(() => { socket.destroy() })
  })
}
