/**
 * The entry point of `lameduck serve`: the one place that listens, reads files and the cluster at
 * start, and owns signals. SIGTERM: /readyz fails at once, /mutate keeps answering (with
 * `Connection: close`) for the drain delay, then both servers close and the process exits 0.
 */
import closeWithGrace from 'close-with-grace'
import type { Logger } from 'pino'
import { createLogger } from './logger.js'
import type { ServeConfig } from './config.js'
import { policyLimits, type AutoChoice } from '../options/policy.js'
import { buildServer, type ServerState } from './server.js'
import { buildMetricsServer, createMetrics, type Metrics } from './metrics.js'
import { createCertificateMetrics, watchCertificateExpiry } from './cert-metrics.js'
import { startRenewal } from '../renew/start.js'
import { loadServingTls } from './tls-setup.js'
import { readClusterChoice } from './auto-handler.js'
import { eventually } from './retry.js'
import { connectKube } from '../kube/connect.js'
import type { KubeClient } from '../kube/client.js'
import type { PolicyLimits } from '../admission/policy.js'
import type { NamespaceLookup } from '../admission/types.js'

/** A running webhook: its addresses, and how to stop it as SIGTERM would. */
export interface Running {
  readonly port: number
  readonly metricsPort: number
  readonly state: ServerState
  /** Readiness off, answer on for the drain delay, then close everything. */
  shutdown(): Promise<void>
}

/** Where namespaces come from, what `auto` means, and what still keeps the server from being ready. */
interface NamespaceSetup {
  readonly namespaces: NamespaceLookup
  readonly auto: () => AutoChoice
  readonly notReady: () => string[]
}

/** Offline, `auto` means the native sleep (docs/configuration.md); the init container works on every cluster. */
const OFFLINE: AutoChoice = { handler: 'sleep', delivery: 'init-container' }
/** Until the cluster is read: exec, which runs on every version, and the init container. */
const UNREAD: AutoChoice = { handler: 'exec', delivery: 'init-container' }

/** The API server client, when serve needs one: for the namespaces, the key pair's Secret, or to renew certificates. */
async function connect (config: ServeConfig, logger: Logger): Promise<KubeClient | undefined> {
  // config.ts allows neither --tls-secret nor --renew-certs with --namespaces-file.
  if (config.namespacesFile !== undefined) return undefined
  return await connectKube({ kubeconfig: config.kubeconfig, context: config.context }, {
    onFallback: reason => { logger.info({ reason }, 'loading @kubernetes/client-node for the kubeconfig\'s credentials') }
  })
}

async function loadNamespaces (
  config: ServeConfig,
  kube: KubeClient | undefined,
  logger: Logger,
  metrics: Metrics
): Promise<NamespaceSetup> {
  if (config.namespacesFile !== undefined || kube === undefined) {
    // No API server to ask: `auto` means the native sleep (docs/configuration.md). (Each source is loaded
    // only when used: the file's brings the YAML reader.)
    const { createFileNamespaces } = await import('../namespaces/file.js')
    const namespaces = await createFileNamespaces({ path: config.namespacesFile!, logger })
    return { namespaces, auto: () => OFFLINE, notReady: () => [] }
  }
  const { createClusterNamespaces } = await import('../namespaces/informer.js')
  const namespaces = createClusterNamespaces(kube, logger, { onEvent: event => metrics.namespaceEvent(event) })
  // Until the version is known, `auto` means exec: it runs on every Kubernetes version, where a
  // native sleep on a cluster older than 1.30 would make the API server reject the Pod.
  const version = eventually<AutoChoice>({
    read: async () => await readClusterChoice(kube, logger),
    fallback: UNREAD,
    pending: 'API server version not read yet',
    logger
  })
  return { namespaces, auto: version.value, notReady: version.notReady }
}

const wait = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * How long a closing server waits for connections it cannot call idle before it cuts them. Node
 * counts a connection that has not sent its first request as active (it is waiting for headers), so
 * `close()` leaves it open; Go's HTTP client dials such spare connections, and the API server keeps
 * them for 90 s. A request still in flight after the drain delay has this long to finish.
 */
export const CLOSE_WAIT_MS = 1000

/** Closes a Fastify app; whatever connections are left after `CLOSE_WAIT_MS` are cut. */
async function closeApp (app: {
  close: () => PromiseLike<undefined>
  server: { closeAllConnections: () => void }
}): Promise<void> {
  const cut = setTimeout(() => {
    app.server.closeAllConnections()
  }, CLOSE_WAIT_MS)
  try {
    await app.close()
  } finally {
    clearTimeout(cut)
  }
}

/** Starts both servers; resolves once they listen. */
export async function startServe (config: ServeConfig, logger: Logger): Promise<Running> {
  const metrics = createMetrics()
  const kube = await connect(config, logger)
  const serving = await loadServingTls(config, logger, kube)
  const tls = serving.tls
  const setup = await loadNamespaces(config, kube, logger, metrics)
  const { namespaces, auto } = setup
  const notReady = (): string[] => [...setup.notReady(), ...serving.notReady()]
  const state: ServerState = { draining: false }
  // Each possible value made once; each request reads the one `auto` means now.
  const limitsFor = new Map<AutoChoice, PolicyLimits>()
  const limits = (): PolicyLimits => {
    const choice = auto()
    let found = limitsFor.get(choice)
    if (found === undefined) limitsFor.set(choice, found = policyLimits(config, choice))
    return found
  }
  const app = buildServer({
    tls,
    namespaces,
    limits,
    excludeNamespaces: config.excludeNamespaces,
    advice: !config.noAdvice,
    bodyLimit: config.bodyLimit,
    timeouts: { headers: config.headersTimeout, request: config.requestTimeout },
    maxConnections: config.maxConnections,
    logger,
    metrics,
    state,
    notReady
  })
  const certMetrics = createCertificateMetrics(metrics.registry)
  const expiry = watchCertificateExpiry({
    tls,
    certFile: config.tlsCert,
    ...serving.served === undefined ? {} : { served: serving.served },
    metrics: certMetrics,
    logger,
    warnWithinMs: config.certExpiryWarning * 1000,
    now: () => new Date()
  })
  await expiry.ready
  const renewer = startRenewal(config, logger, certMetrics, kube)
  // A served pair the caBundle does not trust: a renewal run now puts its CA back (or finds nothing to do).
  serving.onDistrust(() => { renewer.wake() })
  const metricsApp = buildMetricsServer(metrics)
  await app.listen({ host: config.host, port: config.port })
  await metricsApp.listen({ host: config.host, port: config.metricsPort })
  const port = (app.server.address() as { port: number }).port
  const metricsPort = (metricsApp.server.address() as { port: number }).port
  logger.info({ port, metricsPort, limits: limits() }, 'lameduck is serving')
  return {
    port,
    metricsPort,
    state,
    async shutdown () {
      state.draining = true
      logger.info({ drainDelaySeconds: config.drainDelay }, 'shutting down: not ready, draining')
      await renewer.close()
      await wait(config.drainDelay * 1000)
      await closeApp(app)
      await closeApp(metricsApp)
      await namespaces.close()
      expiry.close()
      await serving.close()
      await kube?.close()
      logger.info('stopped')
    }
  }
}

/** What to do on SIGTERM, SIGINT or a crash: log why, then shut down as docs/configuration.md describes. */
export function onClose (
  running: Running,
  logger: Logger
): (event: { signal?: string, err?: unknown }) => Promise<void> {
  return async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'crashed')
    else logger.info({ signal }, 'signal received')
    await running.shutdown()
  }
}

/** Runs `serve` until SIGTERM or SIGINT; close-with-grace then exits (0, or 1 after a crash). */
export async function runServe (config: ServeConfig): Promise<never> {
  const logger = createLogger(config.logLevel)
  const running = await startServe(config, logger)
  // SIGHUP is not a request to stop (close-with-grace would exit on it by default).
  closeWithGrace({ delay: (config.drainDelay + 15) * 1000, logger, skip: ['SIGHUP'] }, onClose(running, logger))
  return await new Promise<never>(() => {})
}
