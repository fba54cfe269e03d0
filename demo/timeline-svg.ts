/**
 * The timeline picture: for each run, requests that succeeded and failed per 100 ms bucket (stacked
 * bars, by when each request was due), with a vertical mark where an endpoint removal reached nginx
 * and where a replica got SIGTERM (or SIGKILL). Plain SVG written by hand: a few rects and lines do
 * not need a charting library. Pure.
 */
import { escapeXml as escape, fixed, legend, timeTicks } from '../src/common/svg.js'
import type { TimelineBucket } from '../src/load/report.js'
import type { RunEvent } from './summary.js'

/** One panel of the picture. */
export interface TimelineRun {
  /** Used in element ids: `without`, `with`. */
  id: string
  title: string
  bucketMs: number
  timeline: readonly TimelineBucket[]
  events: readonly RunEvent[]
}

const WIDTH = 960
const PANEL = 190
const LEFT = 50
const RIGHT = 20
const TOP = 40
const GAP = 50
const COLORS = { ok: '#4caf50', failed: '#e53935', 'pod-deleted': '#8e24aa', 'endpoint-not-ready': '#00acc1', 'endpoint-removed': '#1e88e5', sigterm: '#fb8c00', sigkill: '#000000' } as const
const LEGEND: ReadonlyArray<[keyof typeof COLORS, string]> = [
  ['ok', 'succeeded'], ['failed', 'failed'], ['pod-deleted', 'Pod deleted'], ['endpoint-not-ready', 'EndpointSlice: not ready'],
  ['endpoint-removed', 'gone from nginx'], ['sigterm', 'SIGTERM'], ['sigkill', 'SIGKILL']
]

/** One panel: axes, bars, marks, title. `y0` is its top edge. */
function panel (run: TimelineRun, y0: number, xOf: (ms: number) => number, yMax: number, endMs: number): string {
  const height = PANEL - 30
  const base = y0 + height
  const yOf = (n: number): number => base - n / yMax * height
  const barWidth = Math.max(1, xOf(run.bucketMs) - xOf(0) - 0.5)
  const out: string[] = [`<g class="run" id="run-${escape(run.id)}">`, `<text x="${LEFT}" y="${y0 - 8}" font-weight="bold">${escape(run.title)}</text>`]
  out.push(`<line x1="${LEFT}" y1="${base}" x2="${WIDTH - RIGHT}" y2="${base}" stroke="#888"/>`, `<line x1="${LEFT}" y1="${y0}" x2="${LEFT}" y2="${base}" stroke="#888"/>`)
  out.push(`<text x="${LEFT - 6}" y="${y0 + 4}" text-anchor="end" font-size="11">${yMax}</text>`, `<text x="${LEFT - 6}" y="${base}" text-anchor="end" font-size="11">0</text>`)
  out.push(...timeTicks(endMs, xOf, base + 14))
  for (const bucket of run.timeline) {
    const ok = bucket.requests - bucket.failed
    const x = fixed(xOf(bucket.t))
    if (ok > 0) out.push(`<rect class="ok" x="${x}" y="${fixed(yOf(ok))}" width="${fixed(barWidth)}" height="${fixed(base - yOf(ok))}" fill="${COLORS.ok}"/>`)
    if (bucket.failed > 0) out.push(`<rect class="failed" x="${x}" y="${fixed(yOf(bucket.requests))}" width="${fixed(barWidth)}" height="${fixed(yOf(ok) - yOf(bucket.requests))}" fill="${COLORS.failed}"/>`)
  }
  for (const event of run.events) {
    const x = fixed(xOf(event.tMs))
    const dash = event.kind === 'endpoint-removed' || event.kind === 'endpoint-not-ready' ? ' stroke-dasharray="4 3"' : ''
    out.push(`<line class="${event.kind}" x1="${x}" y1="${y0}" x2="${x}" y2="${base}" stroke="${COLORS[event.kind]}" stroke-width="1.5"${dash}><title>${escape(`${event.kind} ${event.pod} at ${(event.tMs / 1000).toFixed(2)}s`)}</title></line>`)
  }
  out.push('</g>')
  return out.join('\n')
}

/** The height of a picture of `n` panels. */
const heightOf = (n: number): number => TOP + n * (PANEL + GAP)

/** The SVG document for `runs`, stacked top to bottom on one time axis and one count axis. */
export function drawTimeline (runs: readonly TimelineRun[]): string {
  const height = heightOf(runs.length)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...timelineBody(runs),
    '</svg>',
    ''
  ].join('\n')
}

/** One column of the side-by-side picture: a scenario's title and its runs. */
export interface TimelineColumn { title: string, runs: readonly TimelineRun[] }

/** Above each column, its title. */
const COLUMN_TITLE = 30

/**
 * Several scenarios side by side: a column each (its own time and count axes, since a scale-in and
 * a rollout last differently), under its title. One column is drawTimeline's picture.
 */
export function drawColumns (columns: readonly TimelineColumn[]): string {
  if (columns.length === 1) return drawTimeline(columns[0]!.runs)
  const width = WIDTH * columns.length
  const height = COLUMN_TITLE + Math.max(0, ...columns.map(c => heightOf(c.runs.length)))
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...columns.flatMap((column, i) => [
      `<text x="${i * WIDTH + LEFT}" y="22" font-size="16" font-weight="bold">${escape(column.title)}</text>`,
      `<svg class="column" x="${i * WIDTH}" y="${COLUMN_TITLE}" width="${WIDTH}" height="${heightOf(column.runs.length)}">`,
      ...timelineBody(column.runs),
      '</svg>'
    ]),
    '</svg>',
    ''
  ].join('\n')
}

/** The legend and the panels of `runs`, on one time axis and one count axis. */
function timelineBody (runs: readonly TimelineRun[]): string[] {
  const endMs = Math.max(
    1000,
    ...runs.map(run => run.timeline.length * run.bucketMs),
    ...runs.flatMap(run => run.events.map(e => e.tMs))
  )
  const yMax = Math.max(1, ...runs.flatMap(run => run.timeline.map(b => b.requests)))
  const xOf = (ms: number): number => LEFT + ms / endMs * (WIDTH - LEFT - RIGHT)
  return [
    ...legend(
      LEGEND.map(([kind, label]) => [COLORS[kind], label]),
      LEFT,
      10
    ),
    ...runs.map((run, i) => panel(run, TOP + GAP / 2 + i * (PANEL + GAP), xOf, yMax, endMs))
  ]
}
