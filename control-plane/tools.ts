/**
 * Tools built from their Go modules like the cluster's binaries, each from a wrapper module of its
 * own (a folder under `control-plane/modules/`: go.mod with a `tool` line, and go.sum), so that one tool's
 * dependency tree never moves another's versions and `go mod download` fetches only what it needs:
 * crane (pushes images into the nodes' registry), registry (the nodes' registry: crane's own
 * registry handler served over TLS, `modules/crane/registry/main.go`, in crane's module, so the two
 * share one go-containerregistry), actionlint (checks the release workflow in CI) and syft (the
 * release's SBOM; built only by `npm run release`: its cold build alone costs more than CI can
 * spend). Each gets a stamp of its recipe in `.lameduck/bin/NAME.stamp`; a later call with the same
 * recipe is a no-op.
 *
 *   npx tsx control-plane/tools.ts actionlint     # builds actionlint if needed, and runs it
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { goOutput, goStep } from './go.js'
import { withBuildLock } from './lock.js'
import { binDir, modulesDir, repoRoot } from './paths.js'
import { requiredVersion } from './release.js'

/** Bump when the way tools are built changes, so that old stamps stop matching. */
const recipeRevision = 1
const buildFlags = ['-trimpath', '-buildvcs=false', '-mod=readonly']

/**
 * What builds each tool, and the variable its `version` command reads (set with -X); `moduleDir`
 * when it is built from another tool's wrapper module, `sources` when that module holds its code.
 */
const tools: Record<'crane' | 'registry' | 'actionlint' | 'syft', Tool> = {
  crane: {
    module: 'github.com/google/go-containerregistry',
    pkg: 'github.com/google/go-containerregistry/cmd/crane',
    versionVar: 'github.com/google/go-containerregistry/cmd/crane/cmd.Version'
  },
  registry: {
    module: 'github.com/google/go-containerregistry',
    pkg: './registry',
    versionVar: 'main.version',
    moduleDir: 'crane',
    sources: ['registry/main.go']
  },
  actionlint: {
    module: 'github.com/rhysd/actionlint',
    pkg: 'github.com/rhysd/actionlint/cmd/actionlint',
    versionVar: 'github.com/rhysd/actionlint.version'
  },
  syft: { module: 'github.com/anchore/syft', pkg: 'github.com/anchore/syft/cmd/syft', versionVar: 'main.version' }
}
interface Tool { module: string, pkg: string, versionVar: string, moduleDir?: string, sources?: string[] }
export type ToolName = keyof typeof tools

/** The wrapper module a tool is built from. */
function moduleOf (name: ToolName): string {
  return join(modulesDir, tools[name].moduleDir ?? name)
}

/** Where a tool's binary goes. */
export function toolPath (name: ToolName): string {
  return join(binDir, name)
}

/** The tool's pinned version, as its wrapper module requires it. */
export async function toolVersion (name: ToolName): Promise<string> {
  const file = join(moduleOf(name), 'go.mod')
  return requiredVersion(await readFile(file, 'utf8'), tools[name].module, file)
}

async function recipe (name: ToolName, goVersion: string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ recipeRevision, buildFlags, goVersion, tool: tools[name] }))
  const files = ['go.mod', 'go.sum', ...tools[name].sources ?? []]
  for (const file of files) hash.update(await readFile(join(moduleOf(name), file)))
  return hash.digest('hex').slice(0, 16)
}

async function isCurrent (name: ToolName, wanted: string): Promise<boolean> {
  const stamp = await readFile(`${toolPath(name)}.stamp`, 'utf8').catch(() => '')
  return stamp.trim() === wanted && await stat(toolPath(name)).then(() => true, () => false)
}

/** Whether `name` is built from its current recipe (so that using it builds nothing). */
export async function isToolCurrent (name: ToolName): Promise<boolean> {
  const dir = moduleOf(name)
  return await isCurrent(name, await recipe(name, (await goOutput(['env', 'GOVERSION'], { cwd: dir })).trim()))
}

/**
 * Builds `name` into `.lameduck/bin/` unless the stamp says it is current; resolves with its path.
 * Concurrent callers wait for one build (the build lock the cluster's binaries use).
 */
export async function ensureTool (name: ToolName, log: (line: string) => void): Promise<string> {
  const dir = moduleOf(name)
  const goVersion = (await goOutput(['env', 'GOVERSION'], { cwd: dir })).trim()
  const wanted = await recipe(name, goVersion)
  if (await isCurrent(name, wanted)) return toolPath(name)
  return await withBuildLock(log, async () => {
    if (await isCurrent(name, wanted)) return toolPath(name)
    const version = await toolVersion(name)
    const { pkg, versionVar } = tools[name]
    log(`[build] ${name} ${version}: go build ${pkg} (control-plane/modules/${tools[name].moduleDir ?? name}/)`)
    await mkdir(binDir, { recursive: true })
    await goStep(`${name}: go mod download`, ['mod', 'download'], { cwd: dir, log })
    const out = `${toolPath(name)}.partial`
    const ldflags = `-s -w -X ${versionVar}=${version}`
    const seconds = await goStep(name, ['build', ...buildFlags, '-ldflags', ldflags, '-o', out, pkg], { cwd: dir, log })
    await rename(out, toolPath(name))
    await writeFile(`${toolPath(name)}.stamp`, `${wanted}\n`)
    log(`[build] ${name} built in ${seconds.toFixed(0)} s`)
    return toolPath(name)
  })
}

/** `tsx control-plane/tools.ts NAME [ARGS…]`: builds the tool if needed, then runs it with ARGS in the checkout. */
async function main (args: string[]): Promise<number> {
  const [name, ...rest] = args
  if (name === undefined || !(name in tools)) {
    process.stderr.write(`usage: tsx control-plane/tools.ts ${Object.keys(tools).join('|')} [ARGS…]\n`)
    return 2
  }
  const binary = await ensureTool(name as ToolName, line => { process.stderr.write(`${line}\n`) })
  const child = spawn(binary, rest, { cwd: repoRoot, stdio: 'inherit' })
  return await new Promise(resolve => child.on('exit', code => { resolve(code ?? 1) }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
