// The layout's promises, checked on every run: no import cycle anywhere in the product's code
// (type-only imports count too: they tie the files together for a reader just the same), no cycle
// between the folders of src/, and folders that read downwards: two floors that import no other
// folder — src/admission/, the pure core (nothing that does I/O either), and src/common/, what every
// command shares — then src/options/ on them, then the rest; a command's own folder (serve/, preview/,
// check/, verify/, mutating-policy/) is imported only by the CLI's dispatch, so what two share sits below
// both; certs-script/, the entry of `lameduck certs`, is imported by nothing in src/ but the CLI's
// dispatch (what serve's renewal shares is in src/certs/); client-node is loaded only in src/kube/.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FOLDERS = ['src', 'certs-script', 'control-plane', 'charts', 'demo', 'bench', 'release', 'test/helpers']
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|cluster)$/

function sourceFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])
}

/** Every module specifier a file names: static and dynamic imports, `import type`, re-exports. */
function specifiers (file: string): string[] {
  return ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles.map(f => f.fileName)
}

/**
 * The modules a file loads when it runs: static imports that bring at least one value, re-exports,
 * dynamic imports. `import type` (and imports of types only) load nothing.
 */
function runtimeSpecifiers (file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const named = (specifier: ts.Expression | undefined): void => {
    if (specifier !== undefined && ts.isStringLiteral(specifier)) found.push(specifier.text)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !typeOnly(node.importClause)) named(node.moduleSpecifier)
    if (ts.isExportDeclaration(node) && !node.isTypeOnly) named(node.moduleSpecifier)
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) named(node.arguments[0])
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** An import clause that brings only types (a bare `import 'x'` has none, and runs x). */
function typeOnly (clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false
  if (clause.isTypeOnly) return true
  const bindings = clause.namedBindings
  if (clause.name !== undefined || bindings === undefined || !ts.isNamedImports(bindings)) return false
  return bindings.elements.every(e => e.isTypeOnly)
}

/** Relative imports resolved to repository paths (`./x.js` names `./x.ts`). */
function localImports (file: string): string[] {
  return specifiers(file).filter(s => s.startsWith('.')).map(s => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'))
}

/** One cycle per strongly connected component with more than one node (or a self-loop), each as a path. */
function findCycles (graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (node: string): void => {
    index.set(node, index.size)
    low.set(node, index.get(node)!)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!))
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    let member: string
    do { member = stack.pop()!; onStack.delete(member); component.push(member) } while (member !== node)
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component.sort())
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return components
}

const files = FOLDERS.flatMap(sourceFiles)
const graph = new Map(files.map(file => [file, localImports(file)]))

t.test('the cycle finder finds cycles, type-only ones too, and nothing in a tree', async t => {
  t.same(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']])
  t.same(findCycles(new Map([['a', ['a']]])), [['a']])
  t.same(findCycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), [])
  const typeOnly = ts.preProcessFile("import type { X } from './x.js'\nexport { Y } from './y.js'\nawait import('./z.js')", true, true).importedFiles.map(f => f.fileName)
  t.same(typeOnly, ['./x.js', './y.js', './z.js'], 'type-only imports, re-exports and dynamic imports are all read')
})

t.test(`no import cycle between files of ${FOLDERS.join(', ')}`, async t => {
  t.ok(files.length > 50, `${files.length} files read`)
  t.same(findCycles(graph), [], 'no cycle')
})

t.test('no cycle between the folders of src/', async t => {
  const folderOf = (file: string): string | undefined => file.startsWith('src/') ? file.split('/').slice(0, 2).join('/') : undefined
  const folders = new Map<string, Set<string>>()
  for (const [file, imports] of graph) {
    const from = folderOf(file)
    if (from === undefined) continue
    const targets = folders.get(from) ?? new Set<string>()
    for (const target of imports.map(folderOf)) if (target !== undefined && target !== from) targets.add(target)
    folders.set(from, targets)
  }
  t.same(findCycles(new Map([...folders].map(([folder, targets]) => [folder, [...targets]]))), [])
})

/** The imports of src/'s files in `folder` that reach outside `allowed` (folder names under src/). */
function reaching (folder: string, allowed: readonly string[]): string[] {
  const inside = (target: string): boolean => allowed.some(name => target.startsWith(`src/${name}/`))
  return files.filter(file => file.startsWith(`src/${folder}/`))
    .flatMap(file => localImports(file).filter(target => !inside(target)).map(target => `${file} -> ${target}`))
}

t.test('the floors: src/admission/ and src/common/ import no other folder; src/options/ only them', async t => {
  t.same(reaching('common', ['common']), [], 'common/ stands below the core too, not on it')
  t.same(reaching('options', ['options', 'admission', 'common']), [])
})

t.test('in src/, a command\'s folder is imported only by the CLI\'s dispatch: what two share sits below', async t => {
  for (const command of ['serve', 'preview', 'check', 'verify', 'mutating-policy']) {
    const folder = `src/${command}/`
    const others = [...graph].filter(([file]) => file.startsWith('src/') && !file.startsWith(folder))
      .filter(([file]) => !file.startsWith('src/cli/'))
    const into = others.flatMap(([file, imports]) =>
      imports.filter(target => target.startsWith(folder)).map(target => `${file} -> ${target}`))
    t.same(into, [], `src/${command}/`)
  }
})

t.test('the pure core, src/admission/, imports nothing from the shells and nothing that does I/O', async t => {
  for (const file of files.filter(f => f.startsWith('src/admission/'))) {
    t.same(localImports(file).filter(target => !target.startsWith('src/admission/')), [], `${file}: only src/admission/`)
    t.same(specifiers(file).filter(s => IO_MODULES.test(s)), [], `${file}: no I/O modules`)
  }
})

t.test('one Kubernetes client: @kubernetes/client-node is loaded only in src/kube/ (exec, auth-provider)', async t => {
  const product = files.filter(file => /^(src|certs-script)\//.test(file))
  const loaders = product.filter(file => runtimeSpecifiers(file).includes('@kubernetes/client-node'))
  t.same(loaders, ['src/kube/client-node.ts'], 'elsewhere its types only (import type)')
})

t.test('the runtime reader tells loading imports from type-only ones', async t => {
  const dir = t.testdir({
    'a.ts': [
      "import type { A } from 'x'", "import { type B } from 'y'", "import { C, type D } from 'z'", "import 'side'",
      "export * from 'w'", "export type { E } from 'v'", "await import('u')", ''
    ].join('\n')
  })
  t.same(runtimeSpecifiers(relative(ROOT, join(dir, 'a.ts'))), ['z', 'side', 'w', 'u'])
})

t.test('certs-script/ is the entry of lameduck certs: it imports src/, and src/ reaches it only to dispatch to it', async t => {
  const intoEntry = [...graph].flatMap(([file, imports]) => file.startsWith('src/') ? imports.filter(target => target.startsWith('certs-script/')).map(target => `${file} -> ${target}`) : [])
  t.same(intoEntry, ['src/cli/main.ts -> certs-script/main.ts'], 'the certificate code both lameduck certs and serve\'s renewal use lives in src/certs/')
})
