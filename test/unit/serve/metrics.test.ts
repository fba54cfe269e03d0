import t from 'tap'
import { buildMetricsServer, createMetrics } from '../../../src/serve/metrics.js'

t.test('counts decisions, rejections, cache events and reloads, served as Prometheus text', async t => {
  const metrics = createMetrics()
  metrics.observe({ decision: 'mutate', reason: 'x', patchBytes: 120, warnings: 2 }, 0.002)
  metrics.observe({ decision: 'skip', reason: 'y', patchBytes: 0, warnings: 0 }, 0.0001)
  metrics.rejected(415)
  metrics.namespaceEvent('watch-restart')
  metrics.certificateReloaded()
  const app = buildMetricsServer(metrics)
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/plain/)
  t.match(response.body, /lameduck_admission_reviews_total\{decision="mutate"\} 1/)
  t.match(response.body, /lameduck_admission_reviews_total\{decision="skip"\} 1/)
  t.match(response.body, /lameduck_admission_warnings_total 2/)
  t.match(response.body, /lameduck_patch_bytes_total 120/)
  t.match(response.body, /lameduck_http_rejected_total\{status="415"\} 1/)
  t.match(response.body, /lameduck_namespace_cache_events_total\{event="watch-restart"\} 1/)
  t.match(response.body, /lameduck_certificate_reloads_total 1/)
  t.match(response.body, /lameduck_admission_duration_seconds_bucket\{le="0.0025",decision="mutate"\} 1/)
  t.match(response.body, /process_resident_memory_bytes/)
})

t.test('each server has a registry of its own', async t => {
  const a = createMetrics()
  const b = createMetrics()
  a.rejected(400)
  t.match(await a.registry.metrics(), /status="400"/)
  t.notMatch(await b.registry.metrics(), /status="400"/)
})
