/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and lists the functions with the most self time, so the
 * benchmark can say where /mutate spends its CPU.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
}
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[] }

/** One line of the summary: a function, where it is, and its share of the samples. */
export interface HotFunction { name: string, where: string, selfPct: number }

/**
 * The `top` functions by self time in the busiest .cpuprofile of `dir` (the main thread's: tsx's
 * loader thread writes one too, nearly all idle).
 */
export async function hotFunctions (dir: string, top = 20): Promise<HotFunction[]> {
  const files = (await readdir(dir)).filter(name => name.endsWith('.cpuprofile'))
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`)
  const profiles = await Promise.all(files.map(async name => JSON.parse(await readFile(join(dir, name), 'utf8')) as Profile))
  const busy = (p: Profile): number => p.nodes.reduce((sum, n) => sum + (n.callFrame.functionName === '(idle)' ? 0 : n.hitCount ?? 0), 0)
  const profile = profiles.sort((a, b) => busy(b) - busy(a))[0]!
  const byFunction = new Map<string, HotFunction & { hits: number }>()
  let total = 0
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0
    total += hits
    const { functionName, url, lineNumber } = node.callFrame
    const where = `${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`
    const key = `${functionName}@${where}`
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, selfPct: 0, hits: 0 }
    entry.hits += hits
    byFunction.set(key, entry)
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map(({ name, where, hits }) => ({ name, where, selfPct: Math.round(hits / total * 1000) / 10 }))
}
