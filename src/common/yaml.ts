/**
 * The one multi-document YAML reader (manifests for `preview`, Namespaces for `--namespaces-file`)
 * and the writer for what kubectl reads back. Both follow kubectl, which reads YAML 1.1 (go-yaml v2
 * through sigs.k8s.io/yaml): `no`, `on`, `y` are booleans there, so they are read as booleans here
 * and written quoted when they are strings. JSON is YAML too.
 */
import { Document, parseAllDocuments, visit, type DocumentOptions, type ParseOptions, type SchemaOptions, type Tags } from 'yaml'

/** One non-empty document: its value, and where it is (`file: document N`) for messages. */
export interface YamlDocument {
  readonly value: unknown
  readonly where: string
}

type Json = Record<string, unknown>

/** Timestamps stay strings: a Date would print back as a different text. */
const READ_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: (tags: Tags) => tags.filter(tag => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp')
}

// yaml's messages end with a code excerpt; the first line (with line and column) is enough.
const firstLine = (message: string): string => message.split('\n')[0]!.replace(/:$/, '')

/**
 * Every non-empty document of `text` (an empty one, such as after a trailing `---`, holds nothing).
 * Throws an Error naming `source`, the document and the first problem: syntax, an unknown alias, or
 * too many alias expansions (a "billion laughs").
 */
export function readDocuments (text: string, source: string): YamlDocument[] {
  const found: YamlDocument[] = []
  for (const [index, doc] of parseAllDocuments(text, READ_OPTIONS).entries()) {
    const where = `${source}: document ${index + 1}`
    const error = doc.errors[0]
    if (error !== undefined) throw new Error(`${where}: ${firstLine(error.message)}`)
    let value: unknown
    try {
      value = doc.toJS()
    } catch (err) {
      throw new Error(`${where}: ${firstLine((err as Error).message)}`)
    }
    if (value !== null && value !== undefined) found.push({ value, where })
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
 * Strings go-yaml v2 reads as something else that YAML 1.1 alone does not cover: Go's integer
 * syntax after removing `_` (`0o17`, `0b1`, `1_000`), Go floats (`+inf`, `1e3`), timestamps
 * (four digits and a dash), and the merge key `<<`. Quoting one too many is harmless; one too few
 * changes the value.
 */
const GO_SCALAR = /^[-+]?(?:0[xXoObB][\da-fA-F_]+|[\d_]+(?:\.[\d_]*)?(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)$|^\d{4}-|^<<$/i

/** One document as YAML that kubectl reads back as exactly `value`. */
export function writeDocument (value: unknown): string {
  // Without the merge tag, a key or value "<<" is a plain string that the visitor quotes.
  const doc = new Document(value, { version: '1.1', customTags: (tags: Tags) => tags.filter(tag => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:merge') })
  visit(doc, {
    Scalar (_key, node) {
      if (typeof node.value === 'string' && GO_SCALAR.test(node.value)) node.type = 'QUOTE_DOUBLE'
    }
  })
  return doc.toString({ lineWidth: 0 })
}
