/**
 * `npm run demo -- [flags]`: the entry point, the one place that owns signals and exit codes. A bad
 * flag is one line and exit 2; a failure is a message and exit 1; Ctrl-C stops what was started and
 * exits 130. Whatever happens, every process the demo started is stopped by PID before it exits
 * (except, with --keep, the control plane and the webhook).
 */
import { ConfigError } from '../src/common/flags.js'
import { Children } from './children.js'
import { DEMO_HELP, readDemoCommand } from './flags.js'
import { runDemo } from './run.js'

const started = performance.now()
const log = (line: string): void => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6)
  process.stdout.write(line === '' ? '\n' : `[${seconds}s] ${line}\n`)
}

let command
try {
  command = readDemoCommand(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`demo: ${err.message} (see npm run demo -- --help)\n`)
  process.exit(2)
}

if (command.help) {
  process.stdout.write(`${DEMO_HELP}\n`)
} else {
  const children = new Children()
  let stopping: Promise<void> | undefined
  const stopAll = (): Promise<void> => { stopping ??= children.stopAll(log); return stopping }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping everything the demo started`)
      // The interrupted run fails in many places at once now (its cluster is going away): none of
      // that may end the process before every stop has run.
      process.on('unhandledRejection', (err: unknown) => { log(`while stopping: ${err instanceof Error ? err.message : String(err)}`) })
      void stopAll().finally(() => process.exit(130))
    })
  }
  try {
    await runDemo(command.options, children, log)
    log('stopping everything the demo started')
    await stopAll()
    log('done')
  } catch (err) {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
    await stopAll()
    process.exitCode = 1
  }
}
