/**
 * What a release is made from, read from the checkout: whether the working tree is clean, the
 * commit, and the versions that must agree (versions.ts).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { repoRoot } from '../control-plane/paths.js'
import { run } from '../control-plane/node/system.js'
import { imageTag, type VersionSource } from './versions.js'

/** The chart a release packages. */
export const CHART_DIR = join(repoRoot, 'charts', 'lameduck')

/** `git status --porcelain` of the checkout: one line per uncommitted change, untracked files included. */
export async function uncommittedChanges (): Promise<string[]> {
  const status = await run('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=normal'])
  return status.split('\n').filter(line => line.trim() !== '')
}

/** The commit being released. */
export async function headCommit (): Promise<string> {
  return (await run('git', ['-C', repoRoot, 'rev-parse', 'HEAD'])).trim()
}

async function readYaml (path: string): Promise<unknown> {
  try {
    return parse(await readFile(path, 'utf8')) as unknown
  } catch (err) {
    throw new Error(`${path.slice(repoRoot.length + 1)}: ${(err as Error).message}`, { cause: err })
  }
}

/** The lameduck container's image in manifests/base/deployment.yaml. */
async function manifestImage (): Promise<string> {
  const file = join(repoRoot, 'manifests', 'base', 'deployment.yaml')
  for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
    const containers = doc.getIn(['spec', 'template', 'spec', 'containers']) as { toJSON(): unknown } | undefined
    const list = containers?.toJSON() as Array<{ name: string, image: string }> | undefined
    const image = list?.find(c => c.name === 'lameduck')?.image
    if (image !== undefined) return image
  }
  throw new Error('manifests/base/deployment.yaml names no lameduck container')
}

/** The image repository the chart's values name. */
export async function chartImageRepository (): Promise<string> {
  const values = await readYaml(join(CHART_DIR, 'values.yaml')) as { image?: { repository?: string } }
  const repository = values.image?.repository
  if (repository === undefined || repository === '') throw new Error('charts/lameduck/values.yaml names no image.repository')
  return repository
}

/** package.json's version, and the others that must agree with it. */
export async function readVersions (): Promise<{ packageVersion: string, sources: VersionSource[] }> {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  const chart = await readYaml(join(CHART_DIR, 'Chart.yaml')) as { version?: string, appVersion?: string }
  const values = await readYaml(join(CHART_DIR, 'values.yaml')) as { image?: { tag?: string } }
  const sources: VersionSource[] = [
    { where: 'Chart.yaml\'s version', version: String(chart.version ?? '') },
    { where: 'Chart.yaml\'s appVersion', version: String(chart.appVersion ?? '') },
    { where: 'manifests/base/deployment.yaml\'s image tag', version: imageTag(await manifestImage()) }
  ]
  // An empty tag in the values means the appVersion, as charts usually have it.
  const valuesTag = String(values.image?.tag ?? '')
  if (valuesTag !== '') sources.push({ where: 'values.yaml\'s image.tag', version: valuesTag })
  return { packageVersion: pkg.version, sources }
}
