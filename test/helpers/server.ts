/**
 * Builds the webhook server for tests: self-signed pair, Map-backed namespaces, a silent or
 * captured logger. Everything is closed by the test's teardown.
 */
import { Writable } from 'node:stream'
import pino from 'pino'
import type { Test } from 'tap'
import { buildServer, type ServerDeps, type ServerState } from '../../src/serve/server.js'
import { createMetrics } from '../../src/serve/metrics.js'
import { createSelfSignedKeyPair, type KeyPairSource } from '../../src/tls/key-pair.js'
import type { KeyPair } from '../../src/admission/types.js'
import { LIMITS, mapNamespaces, namespace } from './pods.js'

/** A key pair source the test switches by hand. */
export function switchableKeyPair (first: KeyPair): KeyPairSource & { switchTo(pair: KeyPair): void } {
  let pair = first
  const listeners = new Set<(pair: KeyPair) => void>()
  return {
    current: () => pair,
    onChange: listener => { listeners.add(listener); return () => listeners.delete(listener) },
    close: () => listeners.clear(),
    switchTo (next) { pair = next; for (const listener of listeners) listener(next) }
  }
}

/** Log lines written by the server, parsed. */
export function captureLogs (): { logger: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  return { logger: pino({ level: 'info' }, stream), lines }
}

/** The server with test defaults; `overrides` replace any dependency. */
export async function testServer (t: Test, overrides: Partial<ServerDeps> = {}) {
  const pair = await createSelfSignedKeyPair()
  const tls = switchableKeyPair(pair)
  const state: ServerState = { draining: false }
  const deps: ServerDeps = {
    tls,
    namespaces: mapNamespaces([namespace({ 'lameduck.dev/prestop-sleep': '20s', 'lameduck.dev/shutdown-budget': '25s' })]),
    limits: () => LIMITS,
    excludeNamespaces: new Set(['kube-system']),
    bodyLimit: 64 * 1024,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    state,
    ...overrides
  }
  const app = buildServer(deps)
  t.teardown(() => app.close())
  return { app, deps, tls, state, pair }
}
