/**
 * The two runs side by side, as the demo prints them at the end. Pure.
 */
import { formatMs } from '../src/load/report.js'
import type { RunSummary } from './summary.js'

/** Column headings of the two runs. */
export const RUN_TITLES = { without: 'without lameduck', with: 'with lameduck' } as const

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
 * The table: one row per number, one right-aligned column per run. The retries row shows only when
 * nginx retried something, since only then is there anything hidden to show.
 */
export function formatTable (without: RunSummary, withLameduck: RunSummary): string {
  const rows = ROWS.filter(([name]) => name !== 'retried by nginx' || without.retried + withLameduck.retried > 0)
  const cells = rows.map(([name, read]): [string, string, string] => [name, read(without), read(withLameduck)])
  const header: [string, string, string] = ['', RUN_TITLES.without, RUN_TITLES.with]
  const widths = [0, 1, 2].map(i => Math.max(...[header, ...cells].map(row => row[i]!.length)))
  const line = (row: [string, string, string]): string =>
    `${row[0].padEnd(widths[0]!)}   ${row[1].padStart(widths[1]!)}   ${row[2].padStart(widths[2]!)}`.trimEnd()
  const rule = '-'.repeat(widths[0]! + widths[1]! + widths[2]! + 6)
  return [line(header), rule, ...cells.map(line)].join('\n') + '\n'
}
