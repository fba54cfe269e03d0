/**
 * The control plane's processes: started with their output in a log file, stopped by PID (SIGTERM,
 * then SIGKILL after a timeout), and checked for life in a way that also works for processes that
 * are not our children (the CLI's `cluster:down` stops what an earlier `cluster:up` started).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { childEnv } from './env.js'

/** A started component. */
export interface Component {
  name: string
  pid: number
  logPath: string
  child: ChildProcess
  /** Settles with the exit code (or signal) when the process exits. */
  exited: Promise<string>
}

/**
 * Starts `binary` with `args`, its stdout and stderr appended to `<dir>/<name>.log`. `detached`
 * puts it in its own process group, so it outlives the parent (and the parent's Ctrl-C).
 */
export function startComponent (
  name: string,
  binary: string,
  args: string[],
  opts: { dir: string, detached: boolean }
): Component {
  const logPath = join(opts.dir, `${name}.log`)
  const fd = openSync(logPath, 'a')
  try {
    const child = spawn(binary, args, {
      cwd: opts.dir,
      env: childEnv(),
      stdio: ['ignore', fd, fd],
      detached: opts.detached
    })
    if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`)
    if (opts.detached) child.unref()
    const exited = new Promise<string>(resolve => {
      child.on('exit', (code, signal) => {
        resolve(signal ?? `code ${code}`)
      })
    })
    return { name, pid: child.pid, logPath, child, exited }
  } finally {
    closeSync(fd)
  }
}

/** True while `pid` is a live process (a zombie, exited but not yet reaped, counts as gone). */
export function isRunning (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false // 0 and negatives would address process groups
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** The executable path of a live process, or undefined (used to avoid signalling a reused PID). */
export async function executableOf (pid: number): Promise<string | undefined> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return cmdline === '' ? undefined : cmdline.split('\0')[0]
}

function signal (pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids.filter((p) => Number.isInteger(p) && p > 0)) {
    try { process.kill(pid, sig) } catch { /* already gone */ }
  }
}

async function waitGone (pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (pids.some(isRunning)) {
    if (Date.now() >= deadline) return false
    await sleep(25)
  }
  return true
}

/** Stops processes by PID: SIGTERM, then SIGKILL for any still running after `graceMs`; waits for exit. */
export async function stopProcesses (pids: number[], graceMs = 5000): Promise<void> {
  signal(pids, 'SIGTERM')
  if (await waitGone(pids, graceMs)) return
  signal(pids.filter(isRunning), 'SIGKILL')
  if (!await waitGone(pids, 5000)) throw new Error(`processes still running after SIGKILL: ${pids.filter(isRunning).join(', ')}`)
}

/**
 * Stops a control plane's processes in the reverse of their start order, so that the API server
 * shuts down while etcd still answers (with etcd gone first it keeps retrying until SIGKILL).
 */
export async function stopInReverse (pids: number[], graceMs = 5000): Promise<void> {
  for (const pid of [...pids].reverse()) await stopProcesses([pid], graceMs)
}

/** The last `lines` lines of a log file, for error messages. */
export async function tailLog (path: string, lines = 20): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
