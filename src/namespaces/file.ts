/**
 * Namespaces from a file instead of a cluster (`--namespaces-file`): a Namespace, a `List` or
 * `NamespaceList`, or several YAML documents; JSON is YAML too. The file is checked as strictly as
 * the API server would, so a mistake is reported with the file, the document and what is wrong,
 * rather than silently changing what gets injected.
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { watchFiles, type WatchDirectory } from '../common/watched-files.js'
import { isObject, type NamespaceInfo, type NamespaceLookup } from '../admission/types.js'
import { listItems, readDocuments } from '../common/yaml.js'

/** Every Namespace in `text`, in order; throws an Error naming `source`, the document and the problem. */
export function parseNamespaces (text: string, source: string): NamespaceInfo[] {
  const found: NamespaceInfo[] = []
  const firstSeenIn = new Map<string, string>()
  for (const { value, where } of readDocuments(text, source).flatMap(listItems)) {
    const info = toNamespaceInfo(value, where)
    const first = firstSeenIn.get(info.name)
    if (first !== undefined) throw new Error(`${where}: duplicate namespace "${info.name}" (first in ${first})`)
    firstSeenIn.set(info.name, where.slice(source.length + 2))
    found.push(info)
  }
  if (found.length === 0) throw new Error(`${source}: holds no Namespace`)
  return found
}

function toNamespaceInfo (value: unknown, at: string): NamespaceInfo {
  if (!isObject(value)) throw new Error(`${at}: not a Namespace: expected an object, got ${describe(value)}`)
  if (value.kind !== 'Namespace') {
    throw new Error(`${at}: not a Namespace: ${value.kind === undefined ? 'no kind' : `kind ${JSON.stringify(value.kind)}`}`)
  }
  const metadata = isObject(value.metadata) ? value.metadata : {}
  const name = metadata.name
  if (typeof name !== 'string' || name === '') throw new Error(`${at}: missing metadata.name`)
  const named = `${at} (namespace "${name}")`
  return Object.freeze({
    name,
    labels: stringMap(metadata.labels, `${named}: metadata.labels`),
    annotations: stringMap(metadata.annotations, `${named}: metadata.annotations`)
  })
}

/** Labels and annotations are string maps; YAML turns an unquoted `20` or `true` into something else. */
function stringMap (value: unknown, at: string): Readonly<Record<string, string>> {
  if (value === undefined || value === null) return Object.freeze({})
  if (!isObject(value)) throw new Error(`${at} is not a mapping (got ${describe(value)})`)
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new Error(`${at}[${JSON.stringify(key)}] is ${describe(v)}, not a string: quote it`)
    }
  }
  return Object.freeze({ ...(value as Record<string, string>) })
}

function describe (value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a mapping'
  return `a ${typeof value} (${JSON.stringify(value)})`
}

/** What `createFileNamespaces` needs. */
export interface FileNamespacesOptions {
  path: string
  logger: Logger
  /** How often to re-read the file in case a change went unseen (default 5 s). */
  pollIntervalMs?: number
  /** Called when a changed file was loaded (no argument) or a new problem kept the previous version. */
  onReload?: (error?: Error) => void
  /** Defaults to fs.watch; tests pass one that fails, to check that polling carries on alone. */
  watch?: WatchDirectory
}

const POLL_MS = 5000

async function readNamespacesFile (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read the namespaces file: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * A NamespaceLookup over `path`, ready at once. A file that cannot be read or parsed at start
 * rejects. Later changes are picked up by watching the directory (a ConfigMap volume swaps a
 * `..data` symlink, so the file's own name never changes) and by polling (src/common/watched-files.ts);
 * a bad version is logged and the last good one kept. The watcher and the timer keep the process
 * alive until `close()`.
 */
export async function createFileNamespaces (options: FileNamespacesOptions): Promise<NamespaceLookup> {
  const { path, logger, onReload = () => {} } = options
  const file = await watchFiles({
    paths: [path],
    read: readNamespacesFile,
    parse: ([text]) => new Map(parseNamespaces(text!, path).map(ns => [ns.name, ns])),
    what: 'namespaces file',
    logger,
    pollIntervalMs: options.pollIntervalMs ?? POLL_MS,
    ...(options.watch === undefined ? {} : { watch: options.watch }),
    onChange: byName => {
      logger.info({ path, namespaces: byName.size }, 'namespaces file reloaded')
      onReload()
    },
    onProblem: err => { onReload(err) }
  })
  let closed = false
  return {
    async get (name) { return file.current().get(name) },
    ready: () => !closed,
    async close () {
      closed = true
      await file.close()
    }
  }
}
