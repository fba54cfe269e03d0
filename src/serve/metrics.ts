/**
 * Prometheus metrics (prom-client) in a registry of our own, served on a separate plain-HTTP port
 * so that scraping needs no TLS and never competes with /mutate's port.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Outcome } from '../admission/admit.js'

/** The webhook's metrics, and the registry that serves them. */
export interface Metrics {
  readonly registry: Registry
  /** Records one answered review. */
  observe(outcome: Outcome, seconds: number): void
  /** Records a request answered with an HTTP error (400, 413, 415; 500 when lameduck cannot decide). */
  rejected(statusCode: number): void
  /** Records a namespace-cache event (watch restart, cache miss, failed miss fetch). */
  namespaceEvent(event: string): void
  /** Records a certificate reload. */
  certificateReloaded(): void
}

/** A fresh registry with lameduck's metrics and Node's process metrics. */
export function createMetrics (): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const reviews = new Counter({ name: 'lameduck_admission_reviews_total', help: 'AdmissionReviews answered, by decision: mutate, skip, error (a bug of ours: admitted unchanged), unavailable (the namespace could not be read: answered 500, failurePolicy applies)', labelNames: ['decision'], registers })
  const duration = new Histogram({ name: 'lameduck_admission_duration_seconds', help: 'Time to decide an AdmissionReview', labelNames: ['decision'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers })
  const warnings = new Counter({ name: 'lameduck_admission_warnings_total', help: 'Warnings returned to users', registers })
  const patchBytes = new Counter({ name: 'lameduck_patch_bytes_total', help: 'Bytes of base64 patch returned', registers })
  const rejected = new Counter({ name: 'lameduck_http_rejected_total', help: 'Requests answered with an HTTP error, by status', labelNames: ['status'], registers })
  const namespaceEvents = new Counter({ name: 'lameduck_namespace_cache_events_total', help: 'Namespace cache events (watch-restart, cache-miss, miss-fetch-error)', labelNames: ['event'], registers })
  const reloads = new Counter({ name: 'lameduck_certificate_reloads_total', help: 'Serving key pairs loaded after start', registers })
  return {
    registry,
    observe (outcome, seconds) {
      reviews.inc({ decision: outcome.decision })
      duration.observe({ decision: outcome.decision }, seconds)
      warnings.inc(outcome.warnings)
      patchBytes.inc(outcome.patchBytes)
    },
    rejected: statusCode => rejected.inc({ status: String(statusCode) }),
    namespaceEvent: event => namespaceEvents.inc({ event }),
    certificateReloaded: () => reloads.inc()
  }
}

/** The plain-HTTP server for `GET /metrics`. Never listens by itself. */
export function buildMetricsServer (metrics: Metrics): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
  return app
}
