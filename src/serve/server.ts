/**
 * The webhook's HTTPS server: `POST /mutate`, `GET /healthz`, `GET /readyz`.
 * `buildServer` never listens (tests call `inject()`); the entry point listens and owns signals.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify'
import type { Server } from 'node:https'
import type { Logger } from 'pino'
import { admit, type AdmissionDeps } from '../admission/admit.js'
import type { PolicyLimits } from '../admission/policy.js'
import { parseReview } from '../admission/review.js'
import { tlsOptions, type KeyPairSource } from '../tls/key-pair.js'
import type { Metrics } from './metrics.js'

/** Mutable run state the entry point flips on SIGTERM. */
export interface ServerState {
  draining: boolean
}

/** What the server is built from: all passed in, nothing imported as a singleton. */
export interface ServerDeps extends Omit<AdmissionDeps, 'limits'> {
  /**
   * The policy limits in force now, read once per request: in a cluster, what `auto` means is
   * known only once the API server has answered, so the value the core gets can change.
   */
  readonly limits: () => PolicyLimits
  readonly tls: KeyPairSource
  readonly bodyLimit: number
  /** Seconds a request's headers, and the whole request, may take to arrive (--headers-timeout, --request-timeout). */
  readonly timeouts: { readonly headers: number, readonly request: number }
  /** Open connections at most (--max-connections). */
  readonly maxConnections: number
  readonly logger: Logger
  readonly metrics: Metrics
  readonly state: ServerState
  /** More reasons not to be ready, from the shell (e.g. the API server not reached yet). */
  readonly notReady?: () => string[]
}

/**
 * The API server's webhook client closes idle connections after 90 s (IdleConnTimeout in
 * k8s.io/apimachinery/pkg/util/net's transport defaults); staying open longer means it is always the
 * API server that closes an idle connection, never our close racing a request it just sent.
 */
const KEEP_ALIVE_MS = 120_000

/**
 * Slow or stalled clients: Node answers 408 and closes a connection whose request headers (or whole
 * request) have not arrived in time. Node starts the headers clock at a request's first byte, so an
 * idle kept-alive connection is never cut by it (only by KEEP_ALIVE_MS); but for a connection's first
 * request it starts at the handshake, so a connection the API server dialled and keeps unused counts
 * too: the default --headers-timeout stays over the API server's 90 s idle timeout for that reason.
 * Node checks every connection on an interval (30 s by default), so a short timeout gets a short one.
 */
function applyTimeouts (server: Server, timeouts: ServerDeps['timeouts']): void {
  server.headersTimeout = timeouts.headers * 1000
  server.requestTimeout = timeouts.request * 1000
  // Read when the server starts listening.
  ;(server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    5000,
    timeouts.headers * 250
  )
}

function readiness (deps: ServerDeps): string[] {
  const reasons: string[] = []
  if (deps.state.draining) reasons.push('shutting down')
  if (!deps.namespaces.ready()) reasons.push('namespace cache not synced')
  reasons.push(...deps.notReady?.() ?? [])
  return reasons
}

/** Every field of AdmissionDeps but the limits, each one named (the optional ones too). */
type EveryAdmissionDep = Record<keyof Omit<AdmissionDeps, 'limits'>, unknown>

/**
 * What the server was given for the admission core. Each field is named, so that a new one in
 * AdmissionDeps fails to compile here rather than being dropped on the way, as `advice`
 * (--no-advice) once was.
 */
function admissionDeps (deps: ServerDeps): Omit<AdmissionDeps, 'limits'> {
  const named = { namespaces: deps.namespaces, excludeNamespaces: deps.excludeNamespaces, advice: deps.advice }
  return named satisfies EveryAdmissionDep
}

function registerMutate (app: FastifyInstance, deps: ServerDeps): void {
  app.post('/mutate', async (request, reply) => {
    const started = process.hrtime.bigint()
    if (deps.state.draining) reply.header('connection', 'close')
    const review = parseReview(request.body)
    if (review instanceof Error) {
      deps.metrics.rejected(400)
      deps.logger.warn({ error: review.message }, 'bad AdmissionReview')
      return await reply.code(400).send({ error: `not an AdmissionReview: ${review.message}` })
    }
    const answer = await admit(review, { ...admissionDeps(deps), limits: deps.limits() })
    const { outcome } = answer
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    deps.metrics.observe(outcome, seconds)
    const meta = (review.pod ?? review.workload?.object)?.metadata as
      { name?: string, generateName?: string } | undefined
    const fields = {
      uid: review.uid,
      namespace: review.namespace,
      name: meta?.name || meta?.generateName,
      decision: outcome.decision,
      reason: outcome.reason,
      patchBytes: outcome.patchBytes,
      warnings: outcome.warnings,
      dryRun: review.dryRun,
      ms: Math.round(seconds * 1e5) / 100
    }
    if (outcome.error === undefined) deps.logger.info(fields, 'admission')
    else if (answer.status === 500) deps.logger.error({ ...fields, err: outcome.error }, 'admission not decided: answered 500, the API server applies failurePolicy')
    else deps.logger.error({ ...fields, err: outcome.error }, 'admission failed open')
    if (answer.status === 500) deps.metrics.rejected(500)
    return await reply.code(answer.status).send(answer.body)
  })
}

/** Fastify's messages for 415 and 413, made to say what to send instead. */
function explain (error: FastifyError, contentType: string | undefined, bodyLimit: number): string {
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return `content-type ${JSON.stringify(contentType ?? '')} is not accepted: send an AdmissionReview as application/json`
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return `request body is larger than ${bodyLimit} bytes (--body-limit)`
  return error.message
}

/** Builds the webhook server over HTTPS with the current key pair; later pairs apply to new handshakes. */
export function buildServer (deps: ServerDeps): FastifyInstance<Server> {
  const app = Fastify({
    https: tlsOptions(deps.tls.current()),
    loggerInstance: deps.logger,
    // One line per admission decision, written by the route; no per-request lines from Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    keepAliveTimeout: KEEP_ALIVE_MS,
    return503OnClosing: false
  }) as unknown as FastifyInstance<Server>
  applyTimeouts(app.server, deps.timeouts)
  // Each open TLS connection holds ~75 KB of native memory on Node 24 (OpenSSL's state and buffers):
  // 3,000 stalled clients took RSS to 326 MB, over the Deployment's 256Mi. Over the cap, Node closes
  // a new connection as it is accepted, before any handshake; connections already open (the API
  // server's kept-alive ones) keep working, and stalled ones free their place at the timeouts.
  app.server.maxConnections = deps.maxConnections
  deps.tls.onChange(pair => {
    app.server.setSecureContext(tlsOptions(pair))
    deps.metrics.certificateReloaded()
    deps.logger.info('serving the reloaded key pair')
  })
  // AdmissionReviews are JSON; anything else is answered 415 (Fastify also parses text/plain by default).
  app.removeContentTypeParser('text/plain')
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500
    deps.metrics.rejected(statusCode)
    if (statusCode === 500) {
      // Like fastify/demo's error handler: a 5xx says nothing of what went wrong inside; the log does.
      deps.logger.error({ statusCode, err: error }, 'request failed')
      void reply.code(500).send({ error: 'internal server error (see the webhook log)' })
      return
    }
    const message = explain(error, request.headers['content-type'], deps.bodyLimit)
    deps.logger.warn({ statusCode, error: message }, 'request rejected')
    void reply.code(statusCode).send({ error: message })
  })
  app.get('/healthz', async () => ({ ok: true }))
  app.get('/readyz', async (_request, reply) => {
    const reasons = readiness(deps)
    return await reply.code(reasons.length === 0 ? 200 : 503).send({ ready: reasons.length === 0, reasons })
  })
  registerMutate(app, deps)
  return app
}
