// lameduck preview reads and writes YAML as kubectl does, proven against kubectl itself (the one this
// repository builds): for generated plain scalars (fast-check), as map values and as map keys, and for
// manifests as people write them, kubectl's reading of the input, lameduck's reading, and kubectl's
// reading of what `lameduck preview` printed must all be the same, and kubectl must refuse what
// lameduck refuses. kubectl reads with `annotate --local -o json`: the resource builder's decoding
// (sigs.k8s.io/yaml, as `create --dry-run=client` has it) without a server; one kubectl process reads
// a whole batch, and one more after each document it refuses. `lameduck policy` writes as preview does:
// kubectl must read back the objects it built.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { ensureBinaries } from '../../control-plane/cluster.js'
import { runKubectl } from '../../control-plane/kubectl.js'
import { runCli } from '../../src/cli/main.js'
import { readObjects } from '../../src/preview/preview.js'
import { readPolicySettings } from '../../src/mutating-policy/command.js'
import { buildPolicyObjects } from '../../src/mutating-policy/objects.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const { binDir } = await ensureBinaries({ log: line => { t.comment(line) } })
const KUBECTL = join(binDir, 'kubectl')
const MARK = 'lameduck.test/read'

type Json = Record<string, unknown>
/** A number as kubectl printed it, kept as its text (JSON.parse would round a 64-bit integer). */
class Written { constructor (readonly text: string) {} }

/** An object's kind, namespace and name, as the text of `doc` has them (every value read as text). */
function identity (doc: string): string {
  const [parsed] = parseAllDocuments(doc, { version: '1.1', schema: 'failsafe' })
  const object = parsed?.toJS() as { kind?: string, metadata?: Json } | undefined
  return idOf(object?.kind, object?.metadata)
}

/** `kind/namespace/name`. */
function idOf (kind: unknown, metadata: Json | undefined): string {
  return `${String(kind ?? '')}/${String(metadata?.namespace ?? '')}/${String(metadata?.name ?? '')}`
}

/**
 * kubectl's reading of each document: its object, or what kubectl said when it refused it. kubectl
 * stops at a document it cannot turn into JSON, and goes on after one it cannot decode (a label that
 * is no string), so objects are matched by identity, and a run starts again after the first missing one.
 */
async function kubectlReads (docs: readonly string[]): Promise<Array<Json | { refused: string }>> {
  const ids = docs.map(identity)
  if (new Set(ids).size !== ids.length) throw new Error(`two documents name the same object: ${ids.join(' ')}`)
  const reads = new Map<string, Json | { refused: string }>()
  for (let left = ids; left.length > 0; left = left.filter(id => !reads.has(id))) {
    const input = left.map(id => docs[ids.indexOf(id)]!).join('\n---\n')
    const args = ['annotate', '--local', '-f', '-', `${MARK}=1`, '-o', 'json']
    const { code, stdout, stderr } = await runKubectl(KUBECTL, '/dev/null', args, { input })
    // One pretty-printed object after another, each from a line "{" to a line "}".
    for (const text of stdout.split(/^(?=\{$)/m).filter(part => part.trim() !== '')) {
      const object = JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
        typeof value === 'number' ? new Written(context!.source!) : value) as { kind: string, metadata: Json }
      reads.set(idOf(object.kind, object.metadata), object)
    }
    const first = left.find(id => !reads.has(id))
    if (code !== 0 && first !== undefined) reads.set(first, { refused: stderr.trim() })
    if (code !== 0 && first === undefined) throw new Error(`kubectl failed, and yet printed every object: ${stderr}`)
  }
  return ids.map(id => reads.get(id)!)
}

const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const
const inInt64 = (n: bigint): boolean => n >= INT64[0] && n <= INT64[1]

/**
 * A value as JSON text, keys sorted, numbers as kubectl's client holds them: an integer within 64
 * bits exactly, anything else as a 64-bit float.
 */
function canonical (value: unknown): string {
  if (value instanceof Written) {
    const integer = /^-?\d+$/.test(value.text) && inInt64(BigInt(value.text))
    return integer ? BigInt(value.text).toString() : JSON.stringify(Number(value.text))
  }
  if (typeof value === 'bigint') return inInt64(value) ? value.toString() : JSON.stringify(Number(value))
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).sort().map(key => `${JSON.stringify(key)}:${canonical((value as Json)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}

/** kubectl's object without the annotation this test's kubectl call added. */
function unmarked (object: Json): Json {
  const metadata = { ...object.metadata as Json }
  const annotations = Object.fromEntries(Object.entries(metadata.annotations as Json).filter(([key]) => key !== MARK))
  if (Object.keys(annotations).length === 0) delete metadata.annotations
  else metadata.annotations = annotations
  return { ...object, metadata }
}

/** lameduck preview's reading of one document, or why it refused it. */
function lameduckRead (doc: string): Json | { refused: string } {
  try {
    return readObjects(doc, 'doc')[0]!
  } catch (err) {
    return { refused: (err as Error).message }
  }
}

/** `lameduck preview -f -` of `text`, as the CLI runs it; its stdout and stderr. */
async function preview (text: string, namespacesFile: string): Promise<{ out: string, err: string }> {
  const result = { out: '', err: '' }
  const stdout = (s: string): void => { result.out += s }
  const io = { stdout, stderr: (s: string) => { result.err += s }, env: {}, stdin: async () => text }
  const code = await runCli(['preview', '-f', '-', '--namespaces-file', namespacesFile], io)
  if (code !== 0) throw new Error(`lameduck preview exited ${code}: ${result.err}`)
  return result
}

/** The three readings of `docs` compared, one line per document that differs. */
async function differences (t: Test, docs: readonly string[], namespacesFile: string): Promise<string[]> {
  const theirs = await kubectlReads(docs)
  const problems: string[] = []
  const accepted: number[] = []
  for (const [index, doc] of docs.entries()) {
    const kubectl = theirs[index]!
    const ours = lameduckRead(doc)
    const said = (read: Json | { refused: string }): string =>
      'refused' in read ? `refused (${read.refused})` : 'read it'
    if ('refused' in kubectl || 'refused' in ours) {
      const agree = 'refused' in kubectl && 'refused' in ours
      if (!agree) problems.push(`${JSON.stringify(doc)}: kubectl ${said(kubectl)}, lameduck ${said(ours)}`)
      continue
    }
    accepted.push(index)
    const [theirText, ourText] = [canonical(unmarked(kubectl)), canonical(ours)]
    if (theirText !== ourText) problems.push(`${JSON.stringify(doc)}: kubectl read ${theirText}, lameduck ${ourText}`)
  }
  const printed = await preview(accepted.map(index => docs[index]!).join('\n---\n'), namespacesFile)
  const again = await kubectlReads(printed.out.split(/^---$/m))
  t.equal(again.length, accepted.length, 'preview printed every object')
  for (const [position, index] of accepted.entries()) {
    const before = canonical(unmarked(theirs[index] as Json))
    const after = again[position]
    const read = after === undefined ? 'nothing' : 'refused' in after ? after.refused : canonical(unmarked(after))
    if (read !== before) problems.push(`${JSON.stringify(docs[index])}: after preview, ${read}, not ${before}`)
  }
  return problems
}

// No namespace is opted in: preview prints every object unchanged, which kubectl must read as before.
const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: elsewhere}\n'
const namespacesFile = join(t.testdir({ 'namespaces.yaml': namespace }), 'namespaces.yaml')

/** Plain scalars on which YAML readers disagree: Go's integers, YAML 1.1's words, floats, colons, dots, dates. */
const scalar = fc.oneof(
  fc.constantFrom('y', 'Y', 'yes', 'YES', 'yES', 'n', 'N', 'no', 'nO', 'on', 'On', 'oN', 'off', 'OFF', 'true', 'True',
    'tRUE', 'false', 'null', 'Null', 'nULL', '~', '.nan', '.NaN', '.inf', '-.Inf', '+.INF', '.inF', 'inf', 'nan', '.',
    '..', '<<', '100m', '1.2.3', 'web'),
  fc.tuple(
    fc.constantFrom('', '', '+', '-'),
    fc.constantFrom('', '', '0', '0x', '0X', '0o', '0O', '0b', '0B', '0_'),
    fc.stringMatching(/^[0-9a-fA-F_]{1,22}$/),
    fc.constantFrom('', '', '.', '.5', '.25', '.0', '.e3'),
    fc.constantFrom('', '', 'e3', 'E-2', 'e+400', 'e-400', 'e')
  ).map(parts => parts.join('')),
  fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 59 }), fc.option(fc.integer({ min: 0, max: 59 })))
    .map(([a, b, c]) => `${a}:${String(b).padStart(2, '0')}${c === null ? '' : `:${String(c).padStart(2, '0')}`}`),
  fc.stringMatching(/^\.[0-9eE+_-]{0,6}$/),
  fc.bigInt({ min: -(2n ** 66n), max: 2n ** 66n }).map(String),
  fc.bigInt({ min: 0n, max: 2n ** 66n }).map(n => `0x${n.toString(16)}`),
  fc.date({ min: new Date('1970-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map(d => d.toISOString().slice(0, 10))
)

/** Whether `line` holds `text` as one plain scalar (at `key` or as the value), as YAML's syntax has it. */
function plainIn (line: string, text: string, atKey: boolean): boolean {
  const [doc] = parseAllDocuments(line, { version: '1.1', schema: 'failsafe' })
  type Node = { type?: string, source?: string } | null
  const pair = (doc?.contents as { items?: Array<{ key: Node, value: Node }> } | null)?.items?.[0]
  const node = atKey ? pair?.key : pair?.value
  return doc?.errors.length === 0 && node?.type === 'PLAIN' && node.source === text
}

t.test('plain scalars as values and keys: kubectl\'s, lameduck\'s and after-preview readings match', async t => {
  const seed = Number(process.env.PREVIEW_SEED ?? Date.now())
  t.comment(`fast-check seed ${seed}`)
  const scalars = [...new Set(fc.sample(scalar, { numRuns: 400, seed }))]
  const configMap = (name: string, data: string): string =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  ${data}\n`
  const values = scalars.filter(s => plainIn(`v: ${s}`, s, false)).map((s, i) => configMap(`v-${i}`, `v: ${s}`))
  const keys = scalars.filter(s => plainIn(`${s}: k`, s, true)).map((s, i) => configMap(`k-${i}`, `${s}: k`))
  t.ok(values.length > 300 && keys.length > 300, `${values.length} values and ${keys.length} keys`)
  t.same(await differences(t, [...values, ...keys], namespacesFile), [])
})

t.test('manifests as people write them, and the repository\'s own', async t => {
  const files = [
    'test/e2e/fixtures/kubectl-yaml.yaml', 'examples/deployment.yaml', 'examples/namespaces.yaml',
    'manifests/base/deployment.yaml', 'manifests/base/webhook.yaml', 'manifests/base/rbac.yaml',
    'manifests/loadtest/app.yaml', 'manifests/policy/policy.yaml'
  ]
  const docs: string[] = []
  for (const file of files) {
    const text = await readFile(join(ROOT, file), 'utf8')
    docs.push(...text.split(/^---\s*$/m).filter(doc => /^kind:/m.test(doc)))
  }
  t.ok(docs.length >= 15, `${docs.length} documents`)
  t.same(await differences(t, docs, namespacesFile), [])
  const { err } = await preview(docs.find(doc => doc.includes('name: shop-web'))!, namespacesFile)
  t.match(err, /spec\.template\.metadata\.labels: key "app" is given twice: the last value is used, as kubectl does/,
    'a key given twice is told')
})

t.test('lameduck policy, written the same way: kubectl reads back the objects it built', async t => {
  // Valid namespace names that kubectl would read plain as an integer, a float, a boolean, null.
  const argv = ['policy', '--exclude-namespaces', '0o17,0x1f,1e3,012,on,null', '--handler', 'exec']
  const printed = { out: '', err: '' }
  const io = { stdout: (s: string) => { printed.out += s }, stderr: (s: string) => { printed.err += s }, env: {} }
  t.equal(await runCli(argv, io), 0, printed.err)
  const docs = printed.out.split(/^---$/m)
  const built = buildPolicyObjects(readPolicySettings(argv.slice(1), {}))
  const read = await kubectlReads(docs)
  t.equal(read.length, built.length)
  for (const [index, object] of built.entries()) {
    const kubectl = read[index]!
    t.equal('refused' in kubectl ? kubectl.refused : canonical(unmarked(kubectl)), canonical(object), object.kind)
  }
})
