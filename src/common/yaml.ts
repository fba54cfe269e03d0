/**
 * The one multi-document YAML reader (manifests for `preview`, Namespaces for `--namespaces-file`)
 * and the writer for what kubectl reads back. kubectl's reading is the contract (sigs.k8s.io/yaml
 * over go-yaml v2): the `yaml` package parses, and every scalar, map key, merge and alias is then
 * read as kubectl reads it (kubectl-scalars.ts), so that `lameduck preview -f - | kubectl apply -f -`
 * sends the API server what the input would have. JSON is YAML too.
 */
import {
  Document, isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit, type Alias, type Node, type Scalar, type Tags
} from 'yaml'
import { jsonValue, keyString, readsAsString, resolvePlain, type Scalar as Read } from './kubectl-scalars.js'

/** One non-empty document: its value, and where it is (`file: document N`) for messages. */
export interface YamlDocument {
  readonly value: unknown
  readonly where: string
}

type Json = Record<string, unknown>
type MapNode = Node & { items: Array<{ key: unknown, value: unknown }> }

/** `path: `, or nothing at the top of a document. */
const at = (path: string): string => path === '' ? '' : `${path}: `

// The failsafe schema leaves every scalar's text as it is written: this module reads them.
const PARSE_OPTIONS = { version: '1.1', schema: 'failsafe', uniqueKeys: false } as const

// yaml's messages end with a code excerpt; the first line (with line and column) is enough.
const firstLine = (message: string): string => message.split('\n')[0]!.replace(/:$/, '')

const TAG = 'tag:yaml.org,2002:'
const MERGE_KEY = '<<'

/**
 * go-yaml's guard against a "billion laughs": past 100 alias expansions and 1,000 nodes, at most 99%
 * of the nodes read may come from aliases (less in documents of over 400,000 nodes).
 */
export function allowedAliasRatio (decoded: number): number {
  if (decoded <= 400_000) return 0.99
  if (decoded >= 4_000_000) return 0.1
  return 0.99 - 0.89 * (decoded - 400_000) / 3_600_000
}

/** One document's reading: its document (for aliases), counts, and where warnings go. */
interface Reading {
  readonly doc: Document
  readonly warn: (message: string) => void
  decoded: number
  aliased: number
  aliasDepth: number
  readonly expanding: Set<Node>
}

/** A scalar node as kubectl reads it: by its tag when it has one, else by its style and text. */
function readScalar (node: Scalar): Read {
  const text = String(node.source)
  const tag = node.tag
  if (tag === undefined && node.type === 'PLAIN') return resolvePlain(text)
  if (tag === undefined || tag === '!') return { kind: 'str', value: text }
  const wanted = tag.startsWith(TAG) ? tag.slice(TAG.length) : undefined
  if (wanted === undefined || !['int', 'float', 'bool', 'null'].includes(wanted)) return { kind: 'str', value: text }
  const read = resolvePlain(text)
  if (read.kind === wanted) return read
  // go-yaml turns an int into a float when asked; anything else under the wrong tag is an error.
  if (wanted === 'float' && read.kind === 'int') return { kind: 'float', value: Number(read.value) }
  throw new Error(`cannot read ${JSON.stringify(text)} as !!${wanted}`)
}

/** A plain `<<` key (or one tagged !!merge): its value's maps are merged into the map. */
const isMergeKey = (key: unknown): boolean =>
  isScalar(key) && key.source === MERGE_KEY &&
  ((key.type === 'PLAIN' && key.tag === undefined) || key.tag === `${TAG}merge`)

/** Sets `key` as data, even `__proto__`. */
function define (object: Json, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
}

/** The node an alias names; an Error when no anchor before it has that name. */
function resolveAlias (alias: Alias, reading: Reading): Node {
  const target = alias.resolve(reading.doc)
  if (target === undefined) throw new Error(`Unresolved alias *${alias.source}`)
  return target
}

/** The string kubectl makes of a map key (an empty one, `? : x`, is a null). */
function readKey (key: unknown, reading: Reading, path: string): string {
  const node = isAlias(key) ? resolveAlias(key, reading) : key
  if (!isScalar(node)) throw new Error(`${path}: a map or list as a map key (kubectl refuses it)`)
  return keyString(readScalar(node))
}

/** A map: its keys as kubectl makes them, merges as go-yaml does them (over what came before), duplicates told. */
function readMap (node: MapNode, reading: Reading, path: string): Json {
  const object: Json = {}
  const given = new Map<string, string>()
  for (const { key, value } of node.items) {
    if (isMergeKey(key)) {
      merge(value, object, reading, path)
      continue
    }
    const name = readKey(key, reading, path)
    // go-yaml keeps both `1` and `"1"` (an int and a string), and sigs.k8s.io/yaml picks either.
    const written = isScalar(key)
      ? (key.type === 'PLAIN' ? String(key.source) : JSON.stringify(key.source))
      : `*${String((key as Alias).source)}`
    const previous = given.get(name)
    if (previous !== undefined) {
      const which = previous === written ? ', as kubectl does' : ' here; kubectl may use either'
      const both = previous === written ? '' : ` (${previous} and ${written})`
      reading.warn(`${at(path)}key "${name}" is given twice${both}: the last value is used${which}`)
    }
    given.set(name, written)
    define(object, name, read(value, reading, path === '' ? name : `${path}.${name}`))
  }
  return object
}

/** Merges the map (or maps, the earlier ones winning) of a `<<` key into `object`. */
function merge (value: unknown, object: Json, reading: Reading, path: string): void {
  const sources = isSeq(value) ? [...value.items].reverse() : [value]
  for (const source of sources) {
    const target = isAlias(source) ? resolveAlias(source, reading) : source
    if (!isMap(target)) throw new Error(`${at(path)}a merge (<<) takes a map or a list of maps`)
    for (const [key, item] of Object.entries(read(source, reading, path) as Json)) define(object, key, item)
  }
}

/** Any node, as kubectl reads it; go-yaml's counts of nodes and of alias expansions kept. */
function read (node: unknown, reading: Reading, path: string): unknown {
  reading.decoded++
  if (reading.aliasDepth > 0) reading.aliased++
  const { aliased, decoded } = reading
  if (aliased > 100 && decoded > 1000 && aliased / decoded > allowedAliasRatio(decoded)) {
    throw new Error('too many alias expansions (a "billion laughs"): kubectl refuses the document too')
  }
  if (node == null) return null
  if (isAlias(node)) {
    const target = resolveAlias(node, reading)
    if (reading.expanding.has(target)) throw new Error(`*${node.source} contains itself`)
    reading.expanding.add(target)
    reading.aliasDepth++
    try {
      return read(target, reading, path)
    } finally {
      reading.aliasDepth--
      reading.expanding.delete(target)
    }
  }
  if (isScalar(node)) {
    try {
      return jsonValue(readScalar(node))
    } catch (err) {
      throw new Error(`${at(path)}${(err as Error).message}`)
    }
  }
  if (isSeq(node)) return node.items.map((item, index) => read(item, reading, `${path}[${index}]`))
  return readMap(node as MapNode, reading, path)
}

/**
 * Every non-empty document of `text` (an empty one, such as after a trailing `---`, holds nothing),
 * read as kubectl reads it. Throws an Error naming `source`, the document and the first problem:
 * syntax, an unknown alias, too many alias expansions, or a value kubectl refuses (`.inf`, a null
 * key). A key given twice keeps its last value, as kubectl does, and `warn` is told.
 */
export function readDocuments (text: string, source: string, warn: (message: string) => void = () => {}):
YamlDocument[] {
  const found: YamlDocument[] = []
  for (const [index, doc] of parseAllDocuments(text, PARSE_OPTIONS).entries()) {
    const where = `${source}: document ${index + 1}`
    const error = doc.errors[0]
    if (error !== undefined) throw new Error(`${where}: ${firstLine(error.message)}`)
    let value: unknown
    try {
      const told = (message: string): void => { warn(`${where}: ${message}`) }
      value = read(doc.contents, { doc, warn: told, decoded: 0, aliased: 0, aliasDepth: 0, expanding: new Set() }, '')
    } catch (err) {
      throw new Error(`${where}: ${firstLine((err as Error).message)}`)
    }
    if (value !== null) found.push({ value, where })
  }
  return found
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A `List` (or `PodList`, `NamespaceList`…) opened into its items, each with its place
 * (`document N, item M`); anything else as it is. A List without an items array is an Error.
 */
export function listItems (document: YamlDocument): YamlDocument[] {
  const { value, where } = document
  if (!isObject(value) || typeof value.kind !== 'string' || !value.kind.endsWith('List')) return [document]
  if (!Array.isArray(value.items)) throw new Error(`${where}: a ${value.kind} without an items list`)
  return value.items.map((item: unknown, i) => ({ value: item, where: `${where}, item ${i + 1}` }))
}

/**
 * One document as YAML that kubectl reads back as exactly `value`: a string is quoted whenever
 * kubectl would read it plain as something else (`no`, `0o17`, `1_000`, `<<`…); an integer past
 * 2^53 (a BigInt) is written with all its digits.
 */
export function writeDocument (value: unknown): string {
  // Without the merge tag, a key or value "<<" is a plain string that the visitor quotes.
  const withoutMerge = (tags: Tags): Tags => tags.filter(tag => typeof tag === 'string' || tag.tag !== `${TAG}merge`)
  const doc = new Document(value, { version: '1.1', customTags: withoutMerge })
  visit(doc, {
    Scalar (_key, node) {
      const text = node.value
      if (typeof text === 'string' && (!readsAsString(text) || text === MERGE_KEY)) node.type = 'QUOTE_DOUBLE'
    }
  })
  return doc.toString({ lineWidth: 0 })
}
