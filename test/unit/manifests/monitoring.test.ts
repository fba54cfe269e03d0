// manifests/components/monitoring/prometheusrule.yaml, checked as promtool would check it where it
// matters: the schema of a PrometheusRule, every expression parsed by the Prometheus project's own
// PromQL grammar (@prometheus-io/lezer-promql, what the Prometheus UI uses), durations, labels and
// annotation templates; and every lameduck metric an alert reads is one lameduck exports, so a
// renamed metric cannot leave an alert that never fires.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { parser } from '@prometheus-io/lezer-promql'
import { createMetrics } from '../../../src/serve/metrics.js'
import { createCertificateMetrics } from '../../../src/serve/cert-metrics.js'

const FILE = new URL('../../../manifests/components/monitoring/prometheusrule.yaml', import.meta.url)

interface Rule {
  alert?: unknown
  record?: unknown
  expr?: unknown
  for?: unknown
  labels?: Record<string, unknown>
  annotations?: Record<string, unknown>
}
interface RuleFile {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace: string }
  spec: { groups: Array<{ name: string, rules: Rule[] }> }
}

/** Syntax errors (lezer's error nodes) and the metric names an expression selects. */
function analyse (expr: string): { errors: number, metrics: string[] } {
  const tree = parser.parse(expr)
  let errors = 0
  const metrics: string[] = []
  tree.iterate({
    enter: node => {
      if (node.type.isError) errors++
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to))
    }
  })
  return { errors, metrics }
}

/** The metric names lameduck exports (histograms as their series names). */
async function exported (): Promise<Set<string>> {
  const metrics = createMetrics()
  createCertificateMetrics(metrics.registry)
  const names = (await metrics.registry.getMetricsAsJSON()).map(metric => metric.name)
  return new Set(names.flatMap(name => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]))
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/
const TEMPLATE = /\{\{\s*([^}]*?)\s*\}\}/g

const file = parse(await readFile(FILE, 'utf8')) as RuleFile
const rules = file.spec.groups.flatMap(group => group.rules)

t.test('the grammar check itself catches broken PromQL', async t => {
  t.equal(analyse('sum(rate(x[5m])) > 0').errors, 0)
  for (const bad of ['sum(rate(x[5m]) > 0', 'rate(x[5q])', 'x >', 'x{a="b"']) t.ok(analyse(bad).errors > 0, bad)
  t.same(analyse('a + sum(rate(b{c="d"}[5m]))').metrics, ['a', 'b'])
})

t.test('a PrometheusRule with named groups of rules', async t => {
  t.match(file, { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'lameduck', namespace: 'lameduck-system' } })
  t.ok(file.spec.groups.length > 0)
  t.equal(new Set(file.spec.groups.map(group => group.name)).size, file.spec.groups.length, 'group names are unique')
  for (const group of file.spec.groups) t.ok(group.rules.length > 0, `${group.name} has rules`)
  t.equal(new Set(rules.map(rule => rule.alert)).size, rules.length, 'alert names are unique')
})

t.test('every rule: an alert name, an expression that parses, a duration, a severity, a summary and a description', async t => {
  const known = await exported()
  for (const rule of rules) {
    const name = String(rule.alert)
    t.match(name, /^Lameduck[A-Z][A-Za-z]+$/, `${name}: alert name`)
    t.equal(rule.record, undefined, `${name}: an alert, not a recording rule`)
    t.type(rule.expr, 'string', `${name}: expr`)
    const expr = String(rule.expr).trim()
    t.not(expr, '', `${name}: expr is not empty`)
    const { errors, metrics } = analyse(expr)
    t.equal(errors, 0, `${name}: expr parses`)
    t.ok(metrics.length > 0, `${name}: expr reads a metric`)
    for (const metric of metrics) t.ok(metric.startsWith('apiserver_') || known.has(metric), `${name}: ${metric} is a metric lameduck exports (or the API server's)`)
    t.match(String(rule.for), DURATION, `${name}: for`)
    t.ok(['warning', 'critical'].includes(String(rule.labels?.severity)), `${name}: severity`)
    for (const key of ['summary', 'description']) {
      const text = rule.annotations?.[key]
      t.ok(typeof text === 'string' && text.trim() !== '', `${name}: ${key}`)
      t.equal(String(text).split('{{').length, String(text).split('}}').length, `${name}: ${key}: templates are closed`)
      for (const [, inner] of String(text).matchAll(TEMPLATE)) t.match(inner, /^\$(labels\.[a-z_]+|value)$/, `${name}: ${key}: {{ ${inner} }}`)
    }
  }
})

t.test('the alerts the issue asks for: expiry within 14 days, a failing renewal, the webhook\'s error rate', async t => {
  const byName = new Map(rules.map(rule => [String(rule.alert), String(rule.expr)]))
  t.match(byName.get('LameduckCertificateExpiresSoon'), /lameduck_certificate_expiry_timestamp_seconds - time\(\)\) < 14 \* 86400/)
  t.match(byName.get('LameduckCertificateRenewalFailing'), /lameduck_certificate_renewal_failures_total/)
  t.match(byName.get('LameduckWebhookErrors'), /lameduck_admission_reviews_total\{decision=~"error\|unavailable"\}/)
  t.match(byName.get('LameduckWebhookFailingOpen'), /apiserver_admission_webhook_fail_open_count\{name=~"/)
})

t.test('the fail-open alert covers every webhook the base registers, and no other', async t => {
  const webhook = parse(await readFile(new URL('../../../manifests/base/webhook.yaml', import.meta.url), 'utf8')) as { webhooks: Array<{ name: string }> }
  const expr = String(rules.find(rule => rule.alert === 'LameduckWebhookFailingOpen')?.expr)
  const [, pattern] = /name=~"([^"]+)"/.exec(expr)!
  // PromQL label regexes are anchored at both ends; YAML kept the backslashes.
  const matcher = new RegExp(`^(?:${pattern!.replaceAll('\\\\', '\\')})$`)
  for (const hook of webhook.webhooks) t.match(hook.name, matcher, hook.name)
  t.notMatch('pods.example.com', matcher)
})
