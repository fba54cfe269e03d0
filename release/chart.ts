/**
 * The chart in a release: `helm package` of charts/lameduck with the released image in its values
 * (values.ts), so that `helm install` of the package with no `--set image.*` pulls that image; and
 * install.yaml, the same package's objects with its defaults, for `kubectl apply -f`, in the order
 * manifests/install.yaml has them (charts/render.ts). Reproducible: the package's files are copied
 * with the commit's time as their modification time, which is what Helm writes into the archive.
 */
import { cp, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { documentsByTemplate, inApplyOrder, NAMESPACE_FILE, withoutHelmLabels } from '../charts/render.js'
import { runHelm } from '../control-plane/helm.js'
import { repoRoot } from '../control-plane/paths.js'
import { run } from '../control-plane/node/system.js'
import { CHART_DIR } from './sources.js'
import { packagedValues } from './values.js'

/** The image a release publishes: where, and the digest of its manifest. */
export interface ReleasedImage { readonly repository: string, readonly digest: string }

async function helm (args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runHelm(undefined, args)
  if (code !== 0) throw new Error(`helm ${args.join(' ')}: ${stderr.trim()}`)
  return stdout
}

/** Every file and folder under `dir`, and `dir` itself, dated `seconds` (since the epoch). */
async function dateTree (dir: string, seconds: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await dateTree(path, seconds)
    else await utimes(path, seconds, seconds)
  }
  await utimes(dir, seconds, seconds)
}

/**
 * `helm package` of the chart into `dir`, its values naming `image` with `version` as its tag;
 * resolves with the package's path (`dir/lameduck-VERSION.tgz`).
 */
export async function packageChart (dir: string, version: string, image: ReleasedImage): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'lameduck-chart-'))
  try {
    const chart = join(work, 'lameduck')
    await cp(CHART_DIR, chart, { recursive: true })
    const values = join(chart, 'values.yaml')
    await writeFile(values, packagedValues(await readFile(values, 'utf8'), { ...image, tag: version }))
    const committed = Number((await run('git', ['-C', repoRoot, 'log', '-1', '--format=%ct'])).trim())
    await dateTree(chart, committed)
    await helm(['package', chart, '--destination', dir])
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return join(dir, `lameduck-${version}.tgz`)
}

/** Writes install.yaml: every object of the packaged chart with its defaults, in the order `kubectl apply` needs. */
export async function renderInstall (file: string, chartPackage: string, version: string): Promise<void> {
  const rendered = await helm(['template', 'lameduck', chartPackage, '--namespace', 'lameduck-system', '--skip-tests'])
  const namespace = (await readFile(join(repoRoot, NAMESPACE_FILE), 'utf8')).replace(/^(#.*\n)*/, '')
  const documents = inApplyOrder(documentsByTemplate(withoutHelmLabels(rendered)), namespace)
  const header = [
    `# lameduck ${version}: every object of its chart (lameduck-${version}.tgz) with the default values,`,
    '# its image pinned by digest. kubectl apply -f install.yaml (docs/release.md).'
  ].join('\n')
  await writeFile(file, `${header}\n${documents.join('---\n')}`)
}
