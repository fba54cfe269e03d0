// The repository stands alone: every relative link in its Markdown files resolves (to a file, and to a
// heading when it names one), and every repository file a comment or a Markdown page names exists. A
// note that lived outside the repository, or a file since moved or removed, is named here with the
// place that names it.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')
  .filter(file => file !== '')
// A file of this branch not yet added (`git add`) is a file too.
const exists = (path: string): boolean => existsSync(join(ROOT, path))
const TOP = new Set(FILES.map(file => file.split('/')[0]!))

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug (heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '')
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

/** The anchors a Markdown file has: one per heading (a repeated one gets -1, -2…). */
function anchors (file: string): Set<string> {
  const found = new Set<string>()
  let fenced = false
  for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = slug(heading[1]!)
    let anchor = base
    for (let i = 1; found.has(anchor); i++) anchor = `${base}-${i}`
    found.add(anchor)
  }
  return found
}

/** Markdown without its fenced code blocks (a shell session's `a/b` is not a link). */
const prose = (text: string): string => text.replace(/^\s*(```|~~~)[\s\S]*?^\s*\1.*$/gm, '')

/** Every link target of a Markdown text: inline `[x](target)`, images, and reference definitions. */
function linkTargets (text: string): string[] {
  const link = /!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g
  const inline = [...prose(text).matchAll(link)].map(m => m[1]!)
  const defined = [...prose(text).matchAll(/^\s*\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map(m => m[1]!)
  return [...inline, ...defined]
}

/** What is wrong with the relative link `target` of `file`, if anything. */
function brokenLink (file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined
  const [path = '', anchor] = target.split('#')
  const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)))
  if (!exists(resolved)) return `${file}: link to ${target}: no ${resolved}`
  if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
    return `${file}: link to ${target}: ${resolved} has no heading #${anchor}`
  }
  return undefined
}

t.test('the anchor of a heading, as GitHub makes it', async t => {
  t.equal(slug('Which cluster, with which credentials'), 'which-cluster-with-which-credentials')
  t.equal(slug('`lameduck check --measure`: the delay'), 'lameduck-check---measure-the-delay')
  t.equal(slug('Choosing [failurePolicy](x.md)'), 'choosing-failurepolicy')
})

t.test('every relative link of every Markdown file resolves, to a heading too', async t => {
  const markdown = FILES.filter(file => file.endsWith('.md'))
  t.ok(markdown.length >= 10, `${markdown.length} Markdown files`)
  const broken = markdown.flatMap(file =>
    linkTargets(readFileSync(join(ROOT, file), 'utf8')).flatMap(target => brokenLink(file, target) ?? []))
  t.same(broken, [])
})

/** The comments of a source file, by its kind. */
function comments (file: string, text: string): string[] {
  if (/\.(ts|js|mjs|cjs)$/.test(file)) {
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text)
    const found: string[] = []
    for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
      const comment = kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia
      if (comment) found.push(scanner.getTokenText())
      // A template's middle and tail are scanned as such only when asked; the rest of it is code anyway.
      if (kind === ts.SyntaxKind.CloseBraceToken) scanner.reScanTemplateToken(false)
    }
    return found
  }
  if (file.endsWith('.go')) return [...text.matchAll(/\/\/.*$/gm)].map(m => m[0])
  if (/(\.(sh|ya?ml|toml|conf)|Dockerfile|\.ci\/[\w-]+|\.gitignore|\.dockerignore|\.taprc)$/.test(file)) {
    return [...text.matchAll(/(?:^|\s)#(.*)$/gm)].map(m => m[1]!)
  }
  return []
}

const SRC_FOLDERS = new Set(FILES.filter(file => file.startsWith('src/')).map(file => file.split('/')[1]!))

/**
 * The repository files a text names: a path under one of the repository's top folders (or under
 * src/, as `kube/connect.ts`), or a bare file name: `*.md` anywhere, `*.ts` and `*.js` in comments
 * (a Markdown page's `cel.ts` is a name in a list, not a path to follow). URLs, globs and other
 * repositories' paths (`pkg/webhook/server.go`) are not the repository's.
 */
function namedFiles (text: string, inComment: boolean): string[] {
  const withoutUrls = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ')
  // Whole runs of path characters; one followed by a glob's `*` or `{` names no single file.
  const runs = [...withoutUrls.matchAll(/(?<![\w./~*-])[\w-][\w./-]*/g)]
  const tokens = runs.filter(m => !/[*{]/.test(withoutUrls[m.index + m[0].length] ?? ''))
    .map(m => m[0].replace(/[.,:;]+$/, ''))
  return tokens.filter(path => {
    const first = path.split('/')[0]!
    const underSrc = SRC_FOLDERS.has(first) && path.endsWith('.ts')
    if (path.includes('/')) return first !== path && (TOP.has(first) || underSrc)
    return /\.md$/.test(path) || (inComment && /\.(ts|js)$/.test(path))
  })
}

/**
 * Whether `named`, written in `file`, names a file or folder of the repository: from the top, from
 * src/, from the naming file's folder, or (a test naming what it tests) from the folder it mirrors.
 */
function resolves (file: string, named: string): boolean {
  const mirrored = /^test\/unit\/(.*)$/.exec(dirname(file))?.[1]
  const bases = ['', 'src', dirname(file), ...(mirrored === undefined ? [] : [join('src', mirrored)])]
  return bases.some(base => exists(normalize(join(base, named))))
}

t.test('the file names a reader is told about resolve: in comments, and in Markdown outside code blocks', async t => {
  const missing: string[] = []
  for (const file of FILES) {
    if (file.startsWith('tap-snapshots/') || file === 'package-lock.json') continue
    const text = readFileSync(join(ROOT, file), 'utf8')
    const markdown = file.endsWith('.md')
    const texts = markdown ? [prose(text)] : comments(file, text)
    for (const named of new Set(texts.flatMap(text => namedFiles(text, !markdown)))) {
      if (!resolves(file, named)) missing.push(`${file}: ${named}`)
    }
  }
  t.same(missing, [])
})

t.test('the checks find what they are for', async t => {
  const text = 'as TEAM-NOTES.md says; see src/check-job.ts, kube/connect.ts and docs/rules.md, https://x.io/a/b.md, ' +
    'pkg/webhook/server.go, test/e2e/webhook*.test.ts, cel.ts'
  t.same(namedFiles(text, true), ['TEAM-NOTES.md', 'src/check-job.ts', 'kube/connect.ts', 'docs/rules.md', 'cel.ts'])
  const inMarkdown = ['TEAM-NOTES.md', 'src/check-job.ts', 'kube/connect.ts', 'docs/rules.md']
  t.same(namedFiles(text, false), inMarkdown, 'in Markdown')
  t.ok(resolves('test/unit/check/run.test.ts', 'measure.ts'), 'a test names what it tests')
  t.notOk(resolves('src/admission/policy.ts', 'TEAM-NOTES.md'), 'a note outside the repository')
  t.ok(resolves('src/check/run.ts', 'measure.ts'), 'a file beside it')
  t.ok(resolves('src/check/run.ts', 'README.md'), 'a file at the top')
  const code = 'const s = "// not a comment" // one\n/* two */ const u = `${1} // nor this`\n'
  t.same(comments('a.ts', code), ['// one', '/* two */'])
  const markdown = '[a](docs/x.md#y) ![p](p.svg "t")\n```\n[c](not/this.md)\n```\n[d]: ../e.md\n'
  t.same(linkTargets(markdown), ['docs/x.md#y', 'p.svg', '../e.md'])
  t.equal(brokenLink('README.md', 'docs/configuration.md#no-such-heading'),
    'README.md: link to docs/configuration.md#no-such-heading: docs/configuration.md has no heading #no-such-heading')
  t.equal(brokenLink('docs/x.md', '../nowhere.md'), 'docs/x.md: link to ../nowhere.md: no nowhere.md')
})
