/**
 * manifests/ rendered from the chart, so that the two never drift: the kustomize base (one file per
 * template, the chart's defaults), the cert-manager variant, the monitoring component, and
 * manifests/install.yaml, the one file for `kubectl apply -f`. Helm's own labels (helm.sh/chart,
 * app.kubernetes.io/instance, version, managed-by) are left out: nothing manages these objects.
 * The webhook configuration comes first and the Namespace second: `kubectl apply` needs the
 * Namespace before what goes in it, and `kubectl delete` then removes the webhook before anything
 * it calls, as `helm uninstall` does.
 *
 *   npm run manifests:render     # after changing the chart; test/e2e/chart.test.ts fails until then
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runHelm } from '../control-plane/helm.js'
import { ensureBinaries } from '../control-plane/build.js'
import { repoRoot } from '../control-plane/paths.js'

const CHART = 'charts/lameduck'
const NAMESPACE = 'lameduck-system'
/** The hand-written Namespace (Helm leaves namespaces to `--create-namespace`). */
export const NAMESPACE_FILE = 'manifests/base/namespace.yaml'

/** The base's files, in the order kustomize (sortOptions fifo) and install.yaml list them. */
export const BASE_FILES = [
  'webhook.yaml', 'namespace.yaml', 'rbac.yaml', 'certificates.yaml', 'service.yaml', 'deployment.yaml', 'pdb.yaml'
]

const HELM_LABEL = /^\s+(helm\.sh\/chart|app\.kubernetes\.io\/(instance|version|managed-by)): .*\n/gm
const SOURCE = /^# Source: [^/]+\/templates\/(\S+)\n/

/** `text` without the label lines Helm's own conventions add (the chart's `lameduck.labels` helper). */
export function withoutHelmLabels (text: string): string {
  return text.replace(HELM_LABEL, '')
}

/** The documents of `helm template` output by the template they came from, in order; `# Source:` lines dropped. */
export function documentsByTemplate (rendered: string): Map<string, string[]> {
  const byTemplate = new Map<string, string[]>()
  for (const doc of rendered.split(/^---\n/m)) {
    const source = SOURCE.exec(doc)
    if (source === null) continue
    const body = doc.slice(source[0].length).trim()
    if (body === '') continue
    byTemplate.set(source[1]!, [...byTemplate.get(source[1]!) ?? [], `${body}\n`])
  }
  return byTemplate
}

/** A generated file: a header that says so, then the documents. */
export function generatedFile (from: string, values: string, documents: readonly string[]): string {
  const header = [
    `# Rendered from ${from} (${values}) by \`npm run manifests:render\`:`,
    '# change the chart, not this file (test/e2e/chart.test.ts fails while it is out of date).'
  ].join('\n')
  return `${header}\n${documents.join('---\n')}`
}

/** The webhook configuration's documents first, then the Namespace, then the rest in Helm's order. */
export function inApplyOrder (byTemplate: ReadonlyMap<string, readonly string[]>, namespace: string): string[] {
  const webhook = byTemplate.get('webhook.yaml') ?? []
  const rest = [...byTemplate].filter(([template]) => template !== 'webhook.yaml').flatMap(([, docs]) => docs)
  return [...webhook, namespace, ...rest]
}

/** Every file rendered from the chart, by path: what the repository should hold. */
export async function renderManifests (): Promise<Map<string, string>> {
  const template = async (set: string[], extra: string[] = []): Promise<Map<string, string[]>> => {
    const args = ['template', 'lameduck', join(repoRoot, CHART), '--namespace', NAMESPACE, '--skip-tests',
      ...set.flatMap(value => ['--set', value]), ...extra]
    const { code, stdout, stderr } = await runHelm(undefined, args)
    if (code !== 0) throw new Error(`helm ${args.join(' ')}: ${stderr.trim()}`)
    return documentsByTemplate(withoutHelmLabels(stdout))
  }
  const namespace = (await readFile(join(repoRoot, NAMESPACE_FILE), 'utf8')).replace(/^(#.*\n)*/, '')
  const files = new Map<string, string>()
  const base = await template([])
  const defaults = 'the chart\'s defaults'
  for (const [file, docs] of base) {
    files.set(`manifests/base/${file}`, generatedFile(`${CHART}/templates/${file}`, defaults, docs))
  }
  const missing = [...base.keys()].filter(file => !BASE_FILES.includes(file))
  if (missing.length > 0) {
    const where = 'charts/render.ts, manifests/base/kustomization.yaml'
    throw new Error(`the chart renders ${missing.join(', ')}, which BASE_FILES does not list (${where})`)
  }
  files.set('manifests/install.yaml', generatedFile(CHART, defaults, inApplyOrder(base, namespace)))
  const certManager = await template(['certificates.source=cert-manager'])
  const certManagerDocs = inApplyOrder(certManager, namespace)
  const certManagerFile = generatedFile(CHART, 'certificates.source=cert-manager', certManagerDocs)
  files.set('manifests/cert-manager/lameduck.yaml', certManagerFile)
  const only = ['--show-only', 'templates/podmonitor.yaml', '--show-only', 'templates/prometheusrule.yaml']
  const enabled = ['monitoring.podMonitor.enabled=true', 'monitoring.prometheusRule.enabled=true']
  for (const [file, docs] of await template(enabled, only)) {
    const content = generatedFile(`${CHART}/templates/${file}`, 'monitoring.*.enabled=true', docs)
    files.set(`manifests/components/monitoring/${file}`, content)
  }
  return files
}

async function main (): Promise<void> {
  await ensureBinaries()
  for (const [path, content] of await renderManifests()) await writeFile(join(repoRoot, path), content)
  console.log('manifests/ rendered from charts/lameduck')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => { console.error(err instanceof Error ? err.message : err); process.exit(1) })
}
