/**
 * Shared by the reliability suite (test/reliability): how long to run, and where its figures go.
 *
 * - `LAMEDUCK_RELIABILITY_SCALE=long` multiplies the counts (more fuzz bodies, more SIGTERM runs,
 *   more rotations); unset, the suite is sized to finish in under ~10 minutes on a 2-core machine.
 * - `LAMEDUCK_RELIABILITY_JSON=FILE` collects every file's figures into FILE: each test file writes
 *   its part to `FILE.parts/NAME.json` and rewrites FILE from all the parts (the suite runs one file
 *   at a time, `--jobs 1`, so the last one writes them all).
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** True when the longer run was asked for. */
export const LONG = process.env.LAMEDUCK_RELIABILITY_SCALE === 'long'

/** `ci` in the bounded run, `long` in the long one. */
export const scaled = (ci: number, long: number): number => LONG ? long : ci

/** Records this file's figures (when LAMEDUCK_RELIABILITY_JSON is set) and returns them. */
export async function report (part: string, figures: Record<string, number | string | boolean>): Promise<void> {
  const file = process.env.LAMEDUCK_RELIABILITY_JSON
  if (file === undefined || file === '') return
  const parts = `${file}.parts`
  await mkdir(parts, { recursive: true })
  await writeFile(join(parts, `${part}.json`), `${JSON.stringify({ ...figures, scale: LONG ? 'long' : 'ci', at: new Date().toISOString() })}\n`)
  const merged: Record<string, unknown> = {}
  for (const name of (await readdir(parts)).filter(n => n.endsWith('.json')).sort()) {
    const figuresOfPart = JSON.parse(await readFile(join(parts, name), 'utf8')) as Record<string, unknown>
    Object.assign(merged, figuresOfPart, { [basename(name, '.json')]: figuresOfPart })
  }
  delete merged.at
  delete merged.scale
  const temporary = join(dirname(file), `.${basename(file)}.tmp`)
  await writeFile(temporary, `${JSON.stringify(merged, null, 2)}\n`)
  await rename(temporary, file)
}
