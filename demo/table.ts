/**
 * The runs side by side, as the demo prints them at the end: one column per run and path (through
 * the ClusterIP, through the load balancer; without and with lameduck). Pure.
 */
import { formatMs, LATE_MS } from '../src/load/report.js'
import type { RunSummary } from './summary.js'

/** Titles of the two runs. */
export const RUN_TITLES = { without: 'without lameduck', with: 'with lameduck' } as const

/** One column: its heading (two lines) and its numbers. */
export interface TableColumn { title: readonly [string, string], summary: RunSummary }

/** One table row: its name and how it reads a summary. */
const ROWS: ReadonlyArray<[string, (s: RunSummary) => string]> = [
  ['requests', s => String(s.requests)],
  ['failed', s => s.noVerdict === undefined
    ? `${s.failed} (${percent(s.failed, s.requests)})`
    : `no verdict (${s.failed})`],
  ['  5xx', s => String(s['5xx'])],
  ['  resets', s => String(s.resets)],
  ['  refused, timeouts', s => `${s.refused}, ${s.timeouts}`],
  ['  slow requests cut', s => s.slow === undefined ? '-' : `${s.slow.failed} of ${s.slow.requests}`],
  ['p99 latency', s => formatMs(s.p99Ms)],
  ['retried by nginx', s => String(s.retried)],
  ['load behind schedule', s => s.loadLagMs === null ? '-' : formatMs(s.loadLagMs)]
]

/** `3 of 1000` → `0.30%`; nothing sent reads `-`. */
function percent (part: number, whole: number): string {
  return whole === 0 ? '-' : `${(part * 100 / whole).toFixed(2)}%`
}

/** One scenario's two runs, for the table of every scenario side by side. */
export interface ScenarioRow {
  title: string
  result: Record<'without' | 'with', { clusterIP: RunSummary, loadBalancer: RunSummary }>
}

/** `failed of requests`, and the slow requests cut when there were any; no verdict for a load that fell behind. */
function failedOf (s: RunSummary): string {
  if (s.noVerdict !== undefined) return `no verdict (load ${formatMs(s.loadLagMs!)} behind)`
  return `${s.failed} of ${s.requests}${s.slow === undefined ? '' : ` (${s.slow.failed} of ${s.slow.requests} slow)`}`
}

/** The scenarios side by side: one row each, failed of requests on each path without and with lameduck. */
export function formatScenarioTable (rows: readonly ScenarioRow[]): string {
  const paths = [['clusterIP', 'through the ClusterIP'], ['loadBalancer', 'through nginx']] as const
  const runs = ['without', 'with'] as const
  return render([
    ['', ...runs.flatMap(id => paths.map(() => RUN_TITLES[id]))],
    ['', ...runs.flatMap(() => paths.map(([, title]) => title))],
    ...rows.map(row => [row.title, ...runs.flatMap(id => paths.map(([path]) => failedOf(row.result[id][path])))])
  ])
}

/** Rows shown only when some column has something to say in them. */
const WHEN: Readonly<Record<string, (s: RunSummary) => boolean>> = {
  'retried by nginx': s => s.retried > 0,
  '  slow requests cut': s => s.slow !== undefined,
  'load behind schedule': s => s.loadLagMs !== null && s.loadLagMs > LATE_MS
}

/**
 * The table: one row per number, one right-aligned column per run and path, under a two-line
 * heading. The retries row shows only when nginx retried something, since only then is there
 * anything hidden to show; the load's lag only when a load fell behind (then "failed" says whether
 * that path has a verdict).
 */
export function formatTable (columns: readonly TableColumn[]): string {
  const rows = ROWS.filter(([name]) => WHEN[name] === undefined || columns.some(c => WHEN[name]!(c.summary)))
  return render([
    ['', ...columns.map(c => c.title[0])],
    ['', ...columns.map(c => c.title[1])],
    ...rows.map(([name, read]) => [name, ...columns.map(c => read(c.summary))])
  ])
}

/** Rows of cells, right-aligned but the first, under a two-line heading and a rule. */
function render (table: string[][]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map(row => row[i]!.length)))
  const line = (row: string[]): string => row.map((cell, i) => i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i]!)).join('   ').trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1))
  return [line(table[0]!), line(table[1]!), rule, ...table.slice(2).map(line)].join('\n') + '\n'
}
