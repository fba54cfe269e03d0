/**
 * The pieces the hand-written SVG pictures share (the demo's timeline, `lameduck check --svg`): text
 * escaped for XML, coordinates to a tenth, a round step for a time axis, its tick labels, and a
 * legend of coloured squares. Pure.
 */

/** `text` safe inside an element or a double-quoted attribute. */
export const escapeXml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** A coordinate to a tenth of a pixel. */
export const fixed = (n: number): string => String(Math.round(n * 10) / 10)

/** A round step for the time axis, in seconds, so that about 10 ticks fit. */
export function tickStep (seconds: number): number {
  return [1, 2, 5, 10, 30, 60].find(step => seconds / step <= 12) ?? 120
}

/** The labels of a time axis from 0 to `endMs`, at `xOf(ms)`, on the line `y`. */
export function timeTicks (endMs: number, xOf: (ms: number) => number, y: number): string[] {
  const step = tickStep(endMs / 1000)
  const ticks: string[] = []
  for (let s = 0; s * 1000 <= endMs; s += step) ticks.push(`<text x="${fixed(xOf(s * 1000))}" y="${y}" text-anchor="middle" font-size="11">${s}s</text>`)
  return ticks
}

/** A legend in one line from (`x`, `y`): a square of each colour, then its label; about 6.5 px a character at 12 px. */
export function legend (
  entries: ReadonlyArray<readonly [color: string, label: string]>,
  x: number,
  y: number
): string[] {
  return entries.map(([color, label]) => {
    const entry = `<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/><text x="${x + 16}" y="${y + 11}" font-size="12">${label}</text>`
    x += 16 + label.length * 6.5 + 14
    return entry
  })
}
