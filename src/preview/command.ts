/**
 * `lameduck preview`'s shell: its flags, the namespaces (from a file, or from
 * `--namespace-annotation`s), the input file or stdin; the output and warnings on stdout and stderr.
 * What is done to the objects is preview.ts's, pure.
 */
import { readFile } from 'node:fs/promises'
import { ConfigError, parseFlags, type FlagTable } from '../common/flags.js'
import type { Io } from '../common/io.js'
import { checkLimits, policyLimits, PREVIEW_OPTIONS, type HandlerOptions, type PolicyOptions } from '../options/policy.js'
import { flagOptions, optionHelp, resolveOptions } from '../options/read.js'
import { parseNamespaces } from '../namespaces/file.js'
import { INJECT_ENABLED, INJECT_LABEL } from '../admission/keys.js'
import { preview, type NamespaceSource } from './preview.js'

export const PREVIEW_HELP = `Usage: lameduck preview -f FILE [--namespaces-file FILE | --namespace-annotation KEY=VALUE ...]

Prints the mutated object(s) as YAML on stdout and the warnings on stderr, for a Pod or a workload
with a Pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob); multi-document
YAML and JSON are read too, and every other object is printed unchanged, so the output can go back
to kubectl. Each object's namespace is its metadata.namespace ("default" when unset).

  -f, --filename FILE             the objects to preview ("-" reads stdin: helm template … | lameduck preview -f -)
  --namespaces-file FILE          Namespace objects (YAML or JSON) to take labels and annotations from
  --namespace-annotation K=V      an annotation of every object's namespace (repeatable; alias --annotation);
                                  without --namespaces-file, namespaces count as opted in
${optionHelp(PREVIEW_OPTIONS)}`

function annotationSource (pairs: readonly string[]): NamespaceSource {
  const annotations: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new ConfigError(`--namespace-annotation: ${JSON.stringify(pair)} is not KEY=VALUE`)
    annotations[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return name => ({ name, labels: { [INJECT_LABEL]: INJECT_ENABLED }, annotations })
}

async function namespaceSource (file: string | undefined, pairs: readonly string[]): Promise<NamespaceSource> {
  if (file === undefined) return annotationSource(pairs)
  if (pairs.length > 0) throw new ConfigError('--namespaces-file and --namespace-annotation exclude each other')
  const byName = new Map(parseNamespaces(await readFile(file, 'utf8'), file).map(ns => [ns.name, ns]))
  return name => byName.get(name)
}

const PREVIEW_FLAGS = {
  filename: { type: 'string', short: 'f' },
  'namespaces-file': { type: 'string' },
  'namespace-annotation': { type: 'string', multiple: true },
  annotation: { type: 'string', multiple: true },
  ...flagOptions(PREVIEW_OPTIONS)
} satisfies FlagTable

/** Runs `lameduck preview`. */
export async function runPreviewCommand (argv: readonly string[], io: Io): Promise<number> {
  const values = parseFlags(argv, PREVIEW_FLAGS)
  const policy = resolveOptions(PREVIEW_OPTIONS, values, io.env) as unknown as PolicyOptions & HandlerOptions
  checkLimits(policy)
  const filename = values.filename
  if (typeof filename !== 'string') throw new ConfigError('-f FILE is required')
  const annotations = [values['namespace-annotation'], values.annotation].flat().filter(value => typeof value === 'string')
  const namespacesFile = values['namespaces-file']
  const namespaces = await namespaceSource(typeof namespacesFile === 'string' ? namespacesFile : undefined, annotations)
  const text = await readInput(filename, io)
  // No cluster to ask: `auto` means the native sleep, and the init container brings the pause's program.
  const limits = policyLimits(policy, { handler: 'sleep', delivery: 'init-container' })
  const result = preview(text, filename === '-' ? 'stdin' : filename, namespaces, limits, policy.excludeNamespaces)
  io.stdout(result.yaml)
  for (const warning of result.warnings) io.stderr(`${warning}\n`)
  return 0
}

/** The file's text, or all of stdin for `-`. */
async function readInput (filename: string, io: Io): Promise<string> {
  if (filename !== '-') return await readFile(filename, 'utf8')
  if (io.stdin === undefined) throw new ConfigError('-f -: there is no stdin to read here')
  return await io.stdin()
}
