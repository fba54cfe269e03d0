/**
 * The `lameduck` command line: one subcommand per job, `--help` everywhere, and a bad flag or value
 * answered with one clear line and a non-zero exit. Only the dispatch: each command's flags, help and
 * shell are in its own folder (serve/, preview/, load/, check/, verify/, mutating-policy/, certs-script/).
 */
import { text as readAll } from 'node:stream/consumers'
import { ConfigError } from '../common/flags.js'
import { readServeConfig } from '../serve/config.js'
import { SERVE_HELP } from '../serve/options.js'
import type { Io } from '../common/io.js'

/** Exit codes: 2 for a usage error, 1 for a failure while running. */
const USAGE = 2
const FAILED = 1

const OVERVIEW = `lameduck: gives every Pod in an opted-in namespace a preStop pause and a grace period that cover it

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

Run "lameduck <command> --help" for a command's flags.`

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
    return { run: async (argv, io) => await runServe(readServeConfig(argv, io.env)), help: SERVE_HELP }
  },
  preview: async () => {
    const m = await import('../preview/command.js')
    return { run: m.runPreviewCommand, help: m.PREVIEW_HELP }
  },
  load: async () => { const m = await import('../load/command.js'); return { run: m.runLoadCommand, help: m.LOAD_HELP } },
  certs: async () => { const m = await import('../../certs-script/main.js'); return { run: m.runCerts, help: m.CERTS_HELP } },
  check: async () => { const m = await import('../check/command.js'); return { run: m.runCheckCommand, help: m.CHECK_HELP } },
  verify: async () => {
    const m = await import('../verify/command.js')
    return { run: m.runVerifyCommand, help: m.VERIFY_HELP }
  },
  policy: async () => {
    const m = await import('../mutating-policy/command.js')
    return { run: m.runPolicyCommand, help: m.POLICY_HELP }
  }
}

/** Runs the command line; resolves with the exit code. */
export async function runCli (argv: readonly string[], io: Io): Promise<number> {
  const [command = '--help', ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(`${OVERVIEW}\n`)
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

/**
 * Io's onInterrupt for the real process: while `handler` is registered, SIGINT and SIGTERM call it instead of ending
 * the process.
 */
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
