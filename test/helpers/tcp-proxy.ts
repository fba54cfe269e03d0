/**
 * A TCP proxy that a test controls: to the API server, to make the webhook's connection to it fail
 * for real (the reliability suite: a watch cut and frozen; the e2e suite: the API server
 * unreachable after the namespace cache synced), and in front of webhook replicas, as a Service
 * is, counting the connections the API server opens (the install and renewal e2e tests). It listens
 * on a port chosen at once (or the one given), but only from `open()`: until then the target is
 * "down". It never closes a connection by itself: closing a kept-alive one races the client's next
 * request on it, and the API server does not retry a POST. Closed at the test's teardown.
 */
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import type { Test } from 'tap'
import { parse, stringify } from 'yaml'
import { freePorts } from '../../control-plane/ports.js'

/** A proxy to `127.0.0.1:target`. */
export interface TcpProxy {
  readonly port: number
  /** Connections accepted so far. */
  connections(): number
  /** Starts accepting connections. */
  open(): Promise<void>
  /** Resets every connection open now; new ones still pass. */
  cut(): void
  /** Leaves every connection open now hanging (half-open): nothing more passes either way. New ones still pass. */
  freeze(): void
  /** Cuts every connection and refuses new ones: the API server is gone. */
  close(): Promise<void>
}

/**
 * A proxy to the server listening on `target` on 127.0.0.1, or to each of several in turn (a
 * connection each, as a Service spreads them); call `open()` to let connections through.
 */
export async function createTcpProxy (
  t: Test,
  target: number | readonly number[],
  opts: { port?: number } = {}
): Promise<TcpProxy> {
  const port = opts.port ?? (await freePorts(1))[0]!
  const targets = typeof target === 'number' ? [target] : target
  let accepted = 0
  const pairs = new Set<{ client: net.Socket, upstream: net.Socket }>()
  const server = net.createServer(client => {
    const pair = { client, upstream: net.connect(targets[accepted++ % targets.length]!, '127.0.0.1') }
    pairs.add(pair)
    const close = (): void => {
      client.destroy()
      pair.upstream.destroy()
      pairs.delete(pair)
    }
    for (const socket of [client, pair.upstream]) socket.on('error', close).on('close', close)
    client.pipe(pair.upstream)
    pair.upstream.pipe(client)
  })
  const cut = (): void => {
    for (const pair of pairs) {
      pair.client.resetAndDestroy()
      pair.upstream.destroy()
    }
  }
  t.teardown(() => {
    for (const pair of pairs) {
      pair.client.destroy()
      pair.upstream.destroy()
    }
    server.close()
  })
  return {
    port,
    connections: () => accepted,
    open: async () => {
      await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
    },
    cut,
    freeze: () => {
      for (const pair of [...pairs]) {
        pair.client.unpipe(pair.upstream)
        pair.upstream.unpipe(pair.client)
        pair.client.pause()
        pair.upstream.pause()
        pairs.delete(pair) // left hanging: neither end hears anything again
        t.teardown(() => {
          pair.client.destroy()
          pair.upstream.destroy()
        })
      }
    },
    close: async () => {
      const closed = new Promise<void>(resolve =>
        server.close(() => {
          resolve()
        })
      )
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
