/**
 * `lameduck preview`: the webhook's decision, offline, for a Pod or any workload with a Pod
 * template, so a change can be reviewed before it reaches a cluster. It reads YAML as kubectl does
 * and writes what kubectl reads back the same (common/yaml.ts), so that `lameduck preview -f
 * in.yaml | kubectl apply -f -` sends what the input meant, plus lameduck's changes.
 */
import { decide } from '../admission/decide.js'
import type { Pod } from '../admission/pod.js'
import { checkPod } from '../admission/review.js'
import type { PolicyLimits } from '../admission/policy.js'
import { TEMPLATE_PATHS, templateAt, withTemplate } from '../admission/template.js'
import { isObject, type NamespaceInfo } from '../admission/types.js'
import { listItems, readDocuments, writeDocument } from '../common/yaml.js'

/** How preview finds a namespace: from a file, or one built from `--namespace-annotation`s. */
export type NamespaceSource = (name: string) => NamespaceInfo | undefined

/** The mutated documents as YAML, and every warning, each naming its object. */
export interface PreviewResult {
  readonly yaml: string
  readonly warnings: readonly string[]
}

type Json = Record<string, unknown>

/** Decides on one object's Pod template; returns the object to print (a copy when changed) and its warnings. */
function previewObject (
  object: Json,
  path: readonly string[],
  label: string,
  namespaces: NamespaceSource,
  limits: PolicyLimits,
  exclude: ReadonlySet<string>
): { object: Json, warnings: string[] } {
  const template = templateAt(object, path)
  const problem = checkPod(template, path.length === 0 ? label : `${label} ${path.join('.')}`)
  if (problem !== undefined) throw new Error(problem)
  const namespaceName =
    isObject(object.metadata) && typeof object.metadata.namespace === 'string' ? object.metadata.namespace : 'default'
  const decision = decide({
    pod: template as Pod,
    namespaceName,
    namespace: namespaces(namespaceName),
    limits,
    excludeNamespaces: exclude,
    source: path.length === 0 ? 'written' : 'template'
  })
  const warnings = decision.warnings.map(warning => `${label}: ${warning}`)
  if (decision.action === 'skip') return { object, warnings: [...warnings, `${label}: unchanged (${decision.reason})`] }
  return { object: withTemplate(object, path, decision.pod), warnings }
}

function describe (object: Json, index: number): string {
  const meta = isObject(object.metadata) ? object.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : `#${index + 1}`
  return `${String(object.kind)} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${name}`
}

/**
 * What kubectl refuses in an object's metadata before it sends anything ("unable to decode": it
 * reads metadata into its typed form): a name, namespace, label or annotation that is not a string,
 * as `version: 1.10` or `prometheus.io/scrape: true` are.
 */
function metadataProblem (object: Json): string | undefined {
  const meta = isObject(object.metadata) ? object.metadata : {}
  for (const field of ['name', 'generateName', 'namespace']) {
    if (meta[field] !== undefined && typeof meta[field] !== 'string') return `metadata.${field}`
  }
  for (const field of ['labels', 'annotations']) {
    const map = meta[field]
    const bad = isObject(map) ? Object.keys(map).find(key => typeof map[key] !== 'string') : undefined
    if (bad !== undefined) return `metadata.${field}["${bad}"]`
  }
  return undefined
}

/** The objects in a YAML or JSON text, read as kubectl reads them; a `List` is opened into its items. */
export function readObjects (text: string, source: string, warn?: (message: string) => void): Json[] {
  const objects = readDocuments(text, source, warn).flatMap(listItems).map(({ value, where }) => {
    if (!isObject(value) || typeof value.kind !== 'string') throw new Error(`${where} is not a Kubernetes object (no kind)`)
    const problem = metadataProblem(value)
    if (problem !== undefined) {
      throw new Error(`${where}: ${problem} is not a string; kubectl refuses it too (quote it)`)
    }
    return value
  })
  if (objects.length === 0) throw new Error(`${source}: no objects found`)
  return objects
}

/**
 * One line for every object without a Pod template (an install file has many: RBAC, CRDs,
 * ConfigMaps…), so they do not bury the warnings that matter: their count, and how many of each kind.
 */
function summarizeUntouched (kinds: readonly string[]): string[] {
  if (kinds.length === 0) return []
  const counts = new Map<string, number>()
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  const list = [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ')
  return [`${kinds.length} object${kinds.length === 1 ? ' has' : 's have'} no Pod template, printed unchanged: ${list}`]
}

/** Previews every object in `text`: the mutated ones as YAML, the rest unchanged. */
export function preview (
  text: string,
  source: string,
  namespaces: NamespaceSource,
  limits: PolicyLimits,
  exclude: ReadonlySet<string>
): PreviewResult {
  const warnings: string[] = []
  const untouched: string[] = []
  const printed = readObjects(text, source, warning => {
    warnings.push(warning)
  }).map((object, index) => {
    const kind = String(object.kind)
    const path = TEMPLATE_PATHS[kind]
    if (path === undefined) {
      untouched.push(kind)
      return writeDocument(object)
    }
    try {
      const result = previewObject(object, path, describe(object, index), namespaces, limits, exclude)
      warnings.push(...result.warnings)
      return writeDocument(result.object)
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message}`)
    }
  })
  return { yaml: printed.join('---\n'), warnings: [...warnings, ...summarizeUntouched(untouched)] }
}
