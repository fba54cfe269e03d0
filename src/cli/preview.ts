/**
 * `lameduck preview`: the webhook's decision, offline, for a Pod or any workload with a Pod
 * template, so a change can be reviewed before it reaches a cluster.
 */
import YAML from 'yaml'
import { decide } from '../admission/decide.js'
import type { Pod } from '../admission/pod.js'
import { checkPod } from '../admission/review.js'
import type { PolicyLimits } from '../admission/policy.js'
import { isObject, type NamespaceInfo } from '../admission/types.js'

/** How preview finds a namespace: from a file, or one built from `--namespace-annotation`s. */
export type NamespaceSource = (name: string) => NamespaceInfo | undefined

/** The mutated documents as YAML, and every warning, each naming its object. */
export interface PreviewResult {
  readonly yaml: string
  readonly warnings: readonly string[]
}

type Json = Record<string, unknown>

/** Where the Pod template sits in each workload kind. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template']
}

function templateOf (object: Json, path: readonly string[]): { holder: Json | undefined, key: string | undefined, template: unknown } {
  let holder: Json | undefined
  let current: unknown = object
  for (const key of path) {
    holder = isObject(current) ? current : undefined
    current = holder?.[key]
  }
  return { holder, key: path.at(-1), template: current }
}

/** Mutates one object's Pod template in place of a copy; returns the object to print and its warnings. */
function previewObject (object: Json, label: string, namespaces: NamespaceSource, limits: PolicyLimits, exclude: ReadonlySet<string>): { object: Json, warnings: string[] } {
  const path = TEMPLATE_PATHS[String(object.kind)]
  if (path === undefined) return { object, warnings: [`${label}: kind ${String(object.kind)} has no Pod template; printed unchanged`] }
  const { holder, key, template } = templateOf(object, path)
  const where = path.length === 0 ? label : `${label} ${path.join('.')}`
  const problem = checkPod(template, where)
  if (problem !== undefined) throw new Error(problem)
  const namespaceName = isObject(object.metadata) && typeof object.metadata.namespace === 'string' ? object.metadata.namespace : 'default'
  const decision = decide({ pod: template as Pod, namespaceName, namespace: namespaces(namespaceName), limits, excludeNamespaces: exclude })
  const warnings = decision.warnings.map(warning => `${label}: ${warning}`)
  if (decision.action === 'skip') return { object, warnings: [...warnings, `${label}: unchanged (${decision.reason})`] }
  if (holder === undefined || key === undefined) return { object: decision.pod, warnings }
  const copy = structuredClone(object)
  const { holder: copyHolder } = templateOf(copy, path)
  copyHolder![key] = decision.pod
  return { object: copy, warnings }
}

function describe (object: Json, index: number): string {
  const meta = isObject(object.metadata) ? object.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : `#${index + 1}`
  return `${String(object.kind)} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${name}`
}

/** The objects in a YAML or JSON text; a `List` is opened into its items. */
export function readObjects (text: string, source: string): Json[] {
  const objects: Json[] = []
  for (const [index, document] of YAML.parseAllDocuments(text).entries()) {
    if (document.errors.length > 0) throw new Error(`${source}: document ${index + 1}: ${document.errors[0]!.message.split('\n')[0]}`)
    const value: unknown = document.toJS()
    if (value === null || value === undefined) continue
    if (!isObject(value) || typeof value.kind !== 'string') throw new Error(`${source}: document ${index + 1} is not a Kubernetes object (no kind)`)
    if (value.kind.endsWith('List') && Array.isArray(value.items)) {
      objects.push(...value.items.filter(isObject))
    } else objects.push(value)
  }
  if (objects.length === 0) throw new Error(`${source}: no objects found`)
  return objects
}

/** Previews every object in `text`: the mutated ones as YAML, the rest unchanged. */
export function preview (text: string, source: string, namespaces: NamespaceSource, limits: PolicyLimits, exclude: ReadonlySet<string>): PreviewResult {
  const warnings: string[] = []
  const printed = readObjects(text, source).map((object, index) => {
    const label = describe(object, index)
    try {
      const result = previewObject(object, label, namespaces, limits, exclude)
      warnings.push(...result.warnings)
      return YAML.stringify(result.object)
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message}`)
    }
  })
  return { yaml: printed.join('---\n'), warnings }
}
