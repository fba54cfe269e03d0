/**
 * A loopback server that answers as the Kubernetes API server does (paths, verbs, content types,
 * Status bodies), and a kubeconfig for it: for the unit tests of the client-node shells
 * (src/check/cluster.ts) and of the small client (src/kube/, src/certs/cluster.ts: lameduck certs and the renewal
 * calls). The e2e tests run those against a real one.
 */
import type { Test } from 'tap'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { KubeConfig } from '@kubernetes/client-node'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSelfSignedKeyPair } from '../../src/tls/key-pair.js'

/** The fake API server's key pair; its certificate is the kubeconfig's certificate authority. */
export const pair = await createSelfSignedKeyPair()

/** One request as the fake API server saw it. */
export interface ApiRequest { method: string, url: string, contentType: string | undefined, authorization: string | undefined, body: unknown }
/** What it answers: a status, a body (JSON unless `type` says otherwise; none for 204). */
export interface ApiAnswer { status: number, body?: unknown, type?: string }

/** A loopback server (HTTPS, or plain HTTP) that answers with `handler` and records each request; closed at teardown. */
export async function fakeApiServer (t: Test, handler: (r: ApiRequest) => ApiAnswer, plain = false): Promise<{ url: string, requests: ApiRequest[] }> {
  const requests: ApiRequest[] = []
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let text = ''
    req.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
      const request = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) as unknown }
      requests.push(request)
      const { status, body, type = 'application/json' } = handler(request)
      if (status === 204) { res.writeHead(204).end(); return }
      res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body ?? {}))
    })
  }
  const server = plain ? http.createServer(listener) : https.createServer({ key: pair.key, cert: pair.cert }, listener)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => { resolve() }) }))
  return { url: `${plain ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** A kubeconfig for `server` with a token user; `extraContexts` are YAML list items added to its contexts. */
export function kubeconfigYaml (server: string, extraContexts = ''): string {
  // client-node speaks plain HTTP only to a cluster marked insecure.
  const trust = server.startsWith('http:') ? 'insecure-skip-tls-verify: true' : `certificate-authority-data: ${Buffer.from(pair.cert).toString('base64')}`
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "${server}", ${trust}}
users:
- name: admin
  user: {token: secret-token}
contexts:
- name: test
  context: {cluster: test, user: admin}
${extraContexts}current-context: test
`
}

/** `kubeconfigYaml(server)` written to a file in the test's directory; returns its path. */
export async function writeKubeconfig (t: Test, server: string): Promise<string> {
  const file = join(t.testdir({}), 'kubeconfig')
  await writeFile(file, kubeconfigYaml(server))
  return file
}

/** A failure as the API server answers it: a `Status` body with the code and message. */
export const failure = (code: number, message: string): ApiAnswer => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code } })

/** Listens on a loopback port for the test (closed at its teardown) and gives a KubeConfig for it, over plain HTTP. */
export async function kubeConfigFor (test: Pick<Test, 'teardown'>, server: http.Server): Promise<KubeConfig> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  test.teardown(() => { server.closeAllConnections(); server.close() })
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kc
}
