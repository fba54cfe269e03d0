/**
 * The per-Pod timeline of a check (`--svg FILE`): one row per old Pod on one time axis, from the
 * first deletion, with a bar from its deletion to the last request it answered (the propagation
 * delay) and marks where its endpoint turned not ready and left the EndpointSlices, where SIGTERM
 * came and where it exited. The colours and the hand-written SVG follow the demo's picture
 * (demo/timeline-svg.ts). Pure.
 */
import { escapeXml as escape, fixed, legend, timeTicks } from '../common/svg.js'
import type { PodDelay } from './delays.js'

const WIDTH = 960
const ROW = 34
const LEFT = 230
const RIGHT = 30
const TOP = 60
const COLORS = { delay: '#4caf50', deleted: '#8e24aa', 'endpoint-not-ready': '#00acc1', 'endpoint-removed': '#1e88e5', 'last-answer': '#2e7d32', sigterm: '#fb8c00', exit: '#000000' } as const
type Mark = keyof typeof COLORS
const LEGEND: ReadonlyArray<[Mark, string]> = [
  ['delay', 'deletion to last answer'], ['deleted', 'Pod deleted'], ['endpoint-not-ready', 'endpoint not ready'], ['endpoint-removed', 'endpoint gone'],
  ['last-answer', 'last answer'], ['sigterm', 'SIGTERM'], ['exit', 'exit']
]

/** The moments of a Pod that get a mark, by kind. */
function marks (d: PodDelay): Array<[Mark, number]> {
  const all: Array<[Mark, number | undefined]> = [['deleted', d.deletedAt], ['endpoint-not-ready', d.endpointNotReadyAt], ['endpoint-removed', d.endpointRemovedAt], ['last-answer', d.lastAnswerAt], ['sigterm', d.sigtermAt], ['exit', d.exitedAt]]
  return all.filter((m): m is [Mark, number] => m[1] !== undefined)
}

/** The SVG document: `title` on top, one row per Pod of `delays`. */
export function drawPodTimeline (title: string, delays: readonly PodDelay[]): string {
  const start = Math.min(Infinity, ...delays.map(d => d.deletedAt))
  const endMs = Math.max(1000, ...delays.flatMap(d => marks(d).map(([, at]) => at - start)))
  // No Pod: an empty axis (start is Infinity, and no mark uses it).
  const xOf = (ms: number): number => LEFT + ms / endMs * (WIDTH - LEFT - RIGHT)
  const height = TOP + delays.length * ROW + 40
  const base = TOP + delays.length * ROW
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="18" font-weight="bold">${escape(title)}</text>`,
    ...legend(LEGEND.map(([kind, label]) => [COLORS[kind], label]), 20, 30),
    `<line x1="${LEFT}" y1="${base}" x2="${WIDTH - RIGHT}" y2="${base}" stroke="#888"/>`
  ]
  out.push(...timeTicks(endMs, xOf, base + 14))
  delays.forEach((d, i) => {
    const y = TOP + i * ROW
    const label = `${d.pod}: ${d.delayMs === undefined ? 'no answer' : `${(d.delayMs / 1000).toFixed(2)}s`}`
    out.push(`<g class="pod" id="pod-${escape(d.pod)}">`, `<text x="${LEFT - 8}" y="${y + ROW / 2 + 4}" text-anchor="end">${escape(label)}</text>`)
    if (d.lastAnswerAt !== undefined) {
      const from = xOf(d.deletedAt - start)
      out.push(`<rect class="delay" x="${fixed(from)}" y="${y + 9}" width="${fixed(Math.max(1, xOf(Math.max(d.lastAnswerAt, d.deletedAt) - start) - from))}" height="${ROW - 18}" fill="${COLORS.delay}" opacity="0.5"/>`)
    }
    for (const [kind, at] of marks(d)) {
      const mx = fixed(xOf(at - start))
      const dash = kind.startsWith('endpoint') ? ' stroke-dasharray="4 3"' : ''
      out.push(`<line class="${kind}" x1="${mx}" y1="${y + 4}" x2="${mx}" y2="${y + ROW - 4}" stroke="${COLORS[kind]}" stroke-width="2"${dash}><title>${escape(`${kind} ${d.pod} at +${((at - d.deletedAt) / 1000).toFixed(2)}s`)}</title></line>`)
    }
    out.push('</g>')
  })
  out.push('</svg>', '')
  return out.join('\n')
}
