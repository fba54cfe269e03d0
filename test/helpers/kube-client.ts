/**
 * The small Kubernetes client (src/kube/) for a loopback test server: the unit tests of the shells
 * that use it (namespace informer, auto-handler, renewal). Closed at the test's teardown.
 */
import type { Test } from 'tap'
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { createKubeClient, type KubeClient } from '../../src/kube/client.js'
import { connectKube } from '../../src/kube/connect.js'

/** Listens on a loopback port for the test and gives a client for it, over plain HTTP, with token `secret-token`. */
export async function kubeClientFor (test: Pick<Test, 'teardown'>, server: http.Server): Promise<KubeClient> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kube = createKubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tls: { rejectUnauthorized: true }, headers: async () => ({ authorization: 'Bearer secret-token' }) })
  test.teardown(async () => { await kube.close(); server.closeAllConnections(); server.close() })
  return kube
}

/** A client for the kubeconfig `file`, closed at the test's teardown. */
export async function kubeClientFromFile (test: Pick<Test, 'teardown'>, file: string): Promise<KubeClient> {
  const kube = await connectKube({ kubeconfig: file })
  test.teardown(async () => { await kube.close() })
  return kube
}

/** A client whose lists answer `items` (recording the paths asked) and whose watches send nothing until aborted. */
export function listingKube (items: unknown[], paths: string[]): KubeClient {
  const until = (signal: AbortSignal): Promise<void> =>
    new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(new Error('aborted')) }) })
  return {
    server: 'https://api',
    request: async <T>(_method: string, path: string): Promise<T> => {
      paths.push(path)
      return { items, metadata: { resourceVersion: '1' } } as T
    },
    watch: async (_path, _onEvent, signal) => ({ ended: until(signal) }),
    text: async () => '',
    close: async () => {}
  }
}
