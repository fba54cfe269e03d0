/**
 * A loopback server that answers as the Kubernetes API server does (paths, verbs, content types,
 * Status bodies, a watch's stream held open), and a kubeconfig for it: for the unit tests of the
 * small client (src/kube/) and of the shells over it (src/certs/cluster.ts: lameduck certs and the
 * renewal's calls; src/check/cluster.ts: lameduck check's). The e2e tests run those against a real one.
 */
import type { Test } from 'tap'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSelfSignedKeyPair } from '../../src/tls/key-pair.js'

/** The fake API server's key pair; its certificate is the kubeconfig's certificate authority. */
export const pair = await createSelfSignedKeyPair()

/** One request as the fake API server saw it. */
export interface ApiRequest {
  method: string
  url: string
  contentType: string | undefined
  authorization: string | undefined
  body: unknown
}
/**
 * What it answers: a status, a body (JSON unless `type` says otherwise; none for 204); with `hold`,
 * the body is sent and the response is left open, as a watch's is, until the client closes it.
 */
export interface ApiAnswer { status: number, body?: unknown, type?: string, hold?: boolean }

/** The fake API server: its URL, the requests it saw, and those whose client closed a held answer. */
export interface FakeApiServer { url: string, requests: ApiRequest[], closedByClient: ApiRequest[] }

/**
 * A loopback server (HTTPS, or plain HTTP) that answers with `handler` and records each request; closed at teardown.
 */
export async function fakeApiServer (t: Test, handler: (r: ApiRequest) => ApiAnswer, plain = false):
Promise<FakeApiServer> {
  const requests: ApiRequest[] = []
  const closedByClient: ApiRequest[] = []
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let text = ''
    req.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
      const request = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) as unknown }
      requests.push(request)
      const { status, body, type = 'application/json', hold = false } = handler(request)
      if (status === 204) { res.writeHead(204).end(); return }
      const answer = typeof body === 'string' ? body : JSON.stringify(body ?? {})
      if (!hold) { res.writeHead(status, { 'content-type': type }).end(answer); return }
      res.on('close', () => { if (!res.writableEnded) closedByClient.push(request) })
      res.writeHead(status, { 'content-type': type }).write(answer)
    })
  }
  const server = plain ? http.createServer(listener) : https.createServer({ key: pair.key, cert: pair.cert }, listener)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => { resolve() }) }))
  const url = `${plain ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, requests, closedByClient }
}

/** A kubeconfig for `server` with a token user; `extraContexts` are YAML list items added to its contexts. */
export function kubeconfigYaml (server: string, extraContexts = ''): string {
  // Plain HTTP goes to a cluster marked insecure, as kubectl requires.
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

/**
 * A kubeconfig with two contexts, as kubectl users have: `near` (the current one) for `current`,
 * `far` for `other`, each with its own cluster and token; written in the test's directory.
 */
export async function writeTwoContextKubeconfig (t: Test, current: string, other: string): Promise<string> {
  const ca = `certificate-authority-data: ${Buffer.from(pair.cert).toString('base64')}`
  const file = join(t.testdir({}), 'kubeconfig')
  await writeFile(file, `apiVersion: v1
kind: Config
clusters:
- name: near
  cluster: {server: "${current}", ${ca}}
- name: far
  cluster: {server: "${other}", ${ca}}
users:
- name: near
  user: {token: near-token}
- name: far
  user: {token: far-token}
contexts:
- name: near
  context: {cluster: near, user: near}
- name: far
  context: {cluster: far, user: far}
current-context: near
`)
  return file
}
