/**
 * The runs side by side, as the demo prints them at the end: one column per run and path (through
 * the ClusterIP, through the load balancer; without and with lameduck). Pure.
 */
import { formatMs } from '../src/load/report.js'
import type { RunSummary } from './summary.js'

/** Titles of the two runs. */
export const RUN_TITLES = { without: 'without lameduck', with: 'with lameduck' } as const

/** One column: its heading (two lines) and its numbers. */
export interface TableColumn { title: readonly [string, string], summary: RunSummary }

/** One table row: its name and how it reads a summary. */
const ROWS: ReadonlyArray<[string, (s: RunSummary) => string]> = [
  ['requests', s => String(s.requests)],
  ['failed', s => `${s.failed} (${percent(s.failed, s.requests)})`],
  ['  5xx', s => String(s['5xx'])],
  ['  resets', s => String(s.resets)],
  ['  refused, timeouts', s => `${s.refused}, ${s.timeouts}`],
  ['p99 latency', s => formatMs(s.p99Ms)],
  ['retried by nginx', s => String(s.retried)]
]

/** `3 of 1000` → `0.30%`; nothing sent reads `-`. */
function percent (part: number, whole: number): string {
  return whole === 0 ? '-' : `${(part * 100 / whole).toFixed(2)}%`
}

/**
 * The table: one row per number, one right-aligned column per run and path, under a two-line
 * heading. The retries row shows only when nginx retried something, since only then is there
 * anything hidden to show.
 */
export function formatTable (columns: readonly TableColumn[]): string {
  const rows = ROWS.filter(([name]) => name !== 'retried by nginx' || columns.some(c => c.summary.retried > 0))
  const table: string[][] = [
    ['', ...columns.map(c => c.title[0])],
    ['', ...columns.map(c => c.title[1])],
    ...rows.map(([name, read]) => [name, ...columns.map(c => read(c.summary))])
  ]
  const widths = table[0]!.map((_, i) => Math.max(...table.map(row => row[i]!.length)))
  const line = (row: string[]): string => row.map((cell, i) => i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i]!)).join('   ').trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1))
  return [line(table[0]!), line(table[1]!), rule, ...table.slice(2).map(line)].join('\n') + '\n'
}
