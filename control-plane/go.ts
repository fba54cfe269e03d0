/**
 * Runs the `go` command: short queries that return their output, and long builds that report
 * progress (a heartbeat line every 15 s) and fail with the last lines Go printed. Go keeps the
 * caller's proxy settings: it may need them to reach the module proxy.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Options shared by both ways of running Go. */
export interface GoOptions {
  cwd: string
  env?: Record<string, string>
}

/** Runs a short `go` command and returns its standard output. */
export async function goOutput (args: string[], opts: GoOptions): Promise<string> {
  try {
    const { stdout } = await execFileAsync('go', args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 })
    return stdout
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? ''
    throw new Error(`go ${args.join(' ')} failed in ${opts.cwd}:\n${stderr.trim()}`, { cause: err })
  }
}

/** Runs a long `go` command, logging a heartbeat every `heartbeatMs` with the elapsed time. */
export async function goStep (
  label: string,
  args: string[],
  opts: GoOptions & { log: (line: string) => void, heartbeatMs?: number }
): Promise<number> {
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`
  const child = spawn('go', args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const timer = setInterval(() => {
    opts.log(`  … ${label}: still building, ${elapsed()}`)
  }, opts.heartbeatMs ?? 15_000)
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', c => {
        resolve(c ?? 1)
      })
    })
    if (code !== 0) {
      const tail = output.trim().split('\n').slice(-30).join('\n')
      throw new Error(`${label}: go ${args.join(' ')} exited with ${code} after ${elapsed()}:\n${tail}`)
    }
  } finally {
    clearInterval(timer)
  }
  return (Date.now() - started) / 1000
}
