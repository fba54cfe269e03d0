/**
 * A TCP proxy to the API server that a test controls, to make the webhook's connection to it fail
 * for real: the reliability suite (a watch cut and frozen) and the e2e suite (the API server
 * unreachable after the namespace cache synced). It listens on a port chosen at once, but only from
 * `open()`: until then the API server is "down". Closed at the test's teardown.
 */
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import type { Test } from 'tap'
import { parse, stringify } from 'yaml'
import { freePorts } from '../../control-plane/ports.js'

/** A proxy to `127.0.0.1:target`. */
export interface TcpProxy {
  readonly port: number
  /** Starts accepting connections. */
  open(): Promise<void>
  /** Resets every connection open now; new ones still pass. */
  cut(): void
  /** Leaves every connection open now hanging (half-open): nothing more passes either way. New ones still pass. */
  freeze(): void
  /** Cuts every connection and refuses new ones: the API server is gone. */
  close(): Promise<void>
}

/** A proxy to the API server listening on `target`; call `open()` to let connections through. */
export async function createTcpProxy (t: Test, target: number): Promise<TcpProxy> {
  const [port] = await freePorts(1) as [number]
  const pairs = new Set<{ client: net.Socket, upstream: net.Socket }>()
  const server = net.createServer(client => {
    const pair = { client, upstream: net.connect(target, '127.0.0.1') }
    pairs.add(pair)
    const close = (): void => { client.destroy(); pair.upstream.destroy(); pairs.delete(pair) }
    for (const socket of [client, pair.upstream]) socket.on('error', close).on('close', close)
    client.pipe(pair.upstream)
    pair.upstream.pipe(client)
  })
  const cut = (): void => { for (const pair of pairs) { pair.client.resetAndDestroy(); pair.upstream.destroy() } }
  t.teardown(() => { for (const pair of pairs) { pair.client.destroy(); pair.upstream.destroy() } server.close() })
  return {
    port,
    open: async () => { await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve)) },
    cut,
    freeze: () => {
      for (const pair of [...pairs]) {
        pair.client.unpipe(pair.upstream)
        pair.upstream.unpipe(pair.client)
        pair.client.pause()
        pair.upstream.pause()
        pairs.delete(pair) // left hanging: neither end hears anything again
        t.teardown(() => { pair.client.destroy(); pair.upstream.destroy() })
      }
    },
    close: async () => {
      const closed = new Promise<void>(resolve => server.close(() => { resolve() }))
      cut()
      await closed
    }
  }
}

/** Writes to `path` a copy of the kubeconfig at `source` whose cluster is reached through `proxy`. */
export async function writeKubeconfigThrough (proxy: Pick<TcpProxy, 'port'>, source: string, path: string): Promise<void> {
  const config = parse(await readFile(source, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }
  config.clusters[0]!.cluster.server = `https://127.0.0.1:${proxy.port}`
  await writeFile(path, stringify(config))
}
