/**
 * The `lameduck` command line: one subcommand per job, `--help` everywhere, and a bad flag or value
 * answered with one clear line and a non-zero exit.
 */
import { readFile } from 'node:fs/promises'
import { text as readAll } from 'node:stream/consumers'
import { ConfigError, parseFlags, type FlagTable } from '../common/flags.js'
import { checkLimits, flagOptions, policyLimits, readServeConfig, resolveOptions, type ServeConfig } from '../serve/config.js'
import { POLICY_OPTIONS, PREVIEW_OPTIONS, SERVE_OPTIONS, type OptionSpec } from '../serve/options.js'
import { preview, type NamespaceSource } from './preview.js'
import { parseNamespaces } from '../namespaces/file.js'
import { INJECT_ENABLED, INJECT_LABEL } from '../admission/keys.js'
import type { Io } from '../common/io.js'

/** Exit codes: 2 for a usage error, 1 for a failure while running. */
const USAGE = 2
const FAILED = 1

const optionLines = (specs: readonly OptionSpec[]): string =>
  specs.map(spec => `  --${spec.name.padEnd(26)}${spec.help}${spec.default === undefined ? '' : ` (default ${spec.default})`}`).join('\n')

export const HELP: Readonly<Record<string, string>> = {
  lameduck: `lameduck: gives every Pod in an opted-in namespace a preStop pause and a grace period that cover it

Usage: lameduck <command> [flags]

Commands:
  serve     run the mutating admission webhook
  preview   print what the webhook would do to a Pod or workload, offline
  certs     make or renew the webhook's CA and serving certificate (files, or Secrets and caBundle)
  load      send a fixed-rate load to a URL and report what failed
  check     in a cluster: restart a Deployment under load; pass only if no request failed
            (--measure: how long its Pods must pause)
  verify    in a cluster: whether Pods created in a namespace now are mutated, and what they get
  policy    print lameduck as admission policies (Kubernetes 1.36+): no server to run

Run "lameduck <command> --help" for a command's flags.`,
  serve: `Usage: lameduck serve [flags]

Runs the webhook: POST /mutate, GET /healthz and GET /readyz over HTTPS; /metrics over plain HTTP.
Every flag can also be set as LAMEDUCK_<NAME> (--max-sleep is LAMEDUCK_MAX_SLEEP); a flag wins.

${optionLines(SERVE_OPTIONS)}`,
  preview: `Usage: lameduck preview -f FILE [--namespaces-file FILE | --namespace-annotation KEY=VALUE ...]

Prints the mutated object(s) as YAML on stdout and the warnings on stderr, for a Pod or a workload
with a Pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob); multi-document
YAML and JSON are read too, and every other object is printed unchanged, so the output can go back
to kubectl. Each object's namespace is its metadata.namespace ("default" when unset).

  -f, --filename FILE             the objects to preview ("-" reads stdin: helm template … | lameduck preview -f -)
  --namespaces-file FILE          Namespace objects (YAML or JSON) to take labels and annotations from
  --namespace-annotation K=V      an annotation of every object's namespace (repeatable; alias --annotation);
                                  without --namespaces-file, namespaces count as opted in
${optionLines(PREVIEW_OPTIONS)}`
}

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

async function runPreview (argv: readonly string[], io: Io): Promise<number> {
  const values = parseFlags(argv, PREVIEW_FLAGS)
  const policy = resolveOptions(PREVIEW_OPTIONS, values, io.env) as unknown as PolicyOptions
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

type PolicyOptions = Pick<ServeConfig,
  'defaultSleep' | 'defaultBudget' | 'maxSleep' | 'maxGrace' | 'excludeNamespaces' | 'defaultHandler' | 'pauseImage'>

/** A command: how it runs, and its help. */
interface Command { run: (argv: readonly string[], io: Io) => Promise<number>, help: string }

/**
 * Each command's module is loaded when that command runs: the webhook (`serve`) carries only what
 * it uses (BENCHMARKS.md, Memory: the CLI entry went from 134 to 59 MB when commands were loaded
 * this way).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => {
    const { runServe } = await import('../serve/main.js')
    return { run: async (argv, io) => await runServe(readServeConfig(argv, io.env)), help: HELP.serve! }
  },
  preview: async () => ({ run: runPreview, help: HELP.preview! }),
  load: async () => { const m = await import('../load/command.js'); return { run: m.runLoadCommand, help: m.LOAD_HELP } },
  certs: async () => { const m = await import('../../certs-script/main.js'); return { run: m.runCerts, help: m.CERTS_HELP } },
  check: async () => { const m = await import('../check/command.js'); return { run: m.runCheckCommand, help: m.CHECK_HELP } },
  verify: async () => {
    const m = await import('../verify/command.js')
    return { run: m.runVerifyCommand, help: m.VERIFY_HELP }
  },
  policy: async () => {
    const m = await import('../mutating-policy/command.js')
    return { run: m.runPolicyCommand, help: m.POLICY_HELP.replace('OPTIONS', optionLines(POLICY_OPTIONS)) }
  }
}

/** Runs the command line; resolves with the exit code. */
export async function runCli (argv: readonly string[], io: Io): Promise<number> {
  const [command = '--help', ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(`${HELP.lameduck}\n`)
    return argv.length === 0 ? USAGE : 0
  }
  const load = COMMANDS[command]
  if (load === undefined) {
    io.stderr(`lameduck: unknown command ${JSON.stringify(command)} (run "lameduck --help")\n`)
    return USAGE
  }
  const { run, help } = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${help}\n`)
    return 0
  }
  try {
    return await run(rest, io)
  } catch (error) {
    const usage = error instanceof ConfigError
    io.stderr(`lameduck ${command}: ${(error as Error).message}\n`)
    return usage ? USAGE : FAILED
  }
}

/** Io's onInterrupt for the real process: while `handler` is registered, SIGINT and SIGTERM call it instead of ending the process. */
export function onProcessInterrupt (handler: () => void): () => void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, handler)
  return () => { for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, handler) }
}

/** The bin's entry: the real process's streams and environment. */
export async function main (argv: readonly string[]): Promise<number> {
  return await runCli(argv, {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    env: process.env,
    stdin: async () => await readAll(process.stdin),
    onInterrupt: onProcessInterrupt
  })
}
