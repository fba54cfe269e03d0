/**
 * The benchmark's webhook, run as a child process so that the load generator does not share its
 * event loop: the real `buildServer` (src/serve/server.ts) with its real logger (createLogger: one JSON
 * line per admission to stdout), plus two baselines registered here for the benchmark only: `POST /echo` parses the
 * body
 * and sends it back (a bare echo route, what `mutateVsEcho` divides by), and `POST /minimal` parses it
 * and answers the smallest valid AdmissionReview (allowed, uid echoed; `mutateVsMinimal`): the cost
 * of HTTPS, Fastify and JSON alone, with a smaller answer than /mutate's.
 * It tells its parent the port over IPC, and closes (writing a --cpu-prof profile, if asked) on "stop".
 */
import { createLogger } from '../src/serve/logger.js'
import { buildServer } from '../src/serve/server.js'
import { createMetrics } from '../src/serve/metrics.js'
import { createSelfSignedKeyPair, staticKeyPair } from '../src/tls/key-pair.js'
import type { NamespaceLookup } from '../src/admission/types.js'
import { SHOP } from './fixture.js'

const namespaces: NamespaceLookup = {
  get: async name => name === SHOP.name ? SHOP : undefined,
  ready: () => true,
  close: async () => {}
}

const app = buildServer({
  tls: staticKeyPair(await createSelfSignedKeyPair()),
  namespaces,
  limits: () => ({ defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, autoHandler: 'sleep' }),
  excludeNamespaces: new Set(['kube-system']),
  bodyLimit: 4 * 1024 * 1024,
  timeouts: { headers: 100, request: 110 },
  maxConnections: 1000,
  logger: createLogger('info'),
  metrics: createMetrics(),
  state: { draining: false }
})
// The baseline the issue names: an echo, which parses the body and sends it back.
app.post('/echo', async request => request.body)
// A stricter one: parses the same body and sends the smallest valid answer (no patch, no log line).
app.post('/minimal', async request => {
  const uid = (request.body as { request?: { uid?: unknown } } | null)?.request?.uid
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } }
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.send!({ port: (app.server.address() as { port: number }).port })
process.on('message', message => {
  if (message !== 'stop') return
  void app.close().then(() => { process.exit(0) })
})
process.on('disconnect', () => { process.exit(0) })
