/**
 * The demo's child processes and everything else it must undo, in one place: each start registers
 * its stop, and `stopAll` runs the stops in reverse order, by PID, on success, failure and Ctrl-C.
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** A running child process. */
export interface Child {
  readonly name: string
  readonly pid: number
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<string>
  alive(): boolean
  /** Sends `signal` to this PID if it still runs. */
  signal(signal: NodeJS.Signals): void
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>
}

/** What a start needs. */
export interface StartChild {
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** stdout and stderr are appended here. */
  logFile: string
  /** Outlive the demo (`--keep`): own process group, not stopped by `stopAll`. */
  detached?: boolean
}

/** Starts children and remembers how to undo things. */
export class Children {
  private readonly undo: Array<{ what: string, run: () => Promise<void> }> = []

  /** Starts a process with its output in `logFile`; it is stopped by `stopAll` unless detached. */
  start (opts: StartChild): Child {
    const fd = openSync(opts.logFile, 'a')
    const proc = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd], detached: opts.detached ?? false })
    closeSync(fd)
    if (proc.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.command})`)
    const pid = proc.pid
    let running = true
    const exited = new Promise<string>(resolve => {
      proc.on('exit', (code, signal) => { running = false; resolve(signal ?? `exit ${code}`) })
      proc.on('error', () => { running = false; resolve('failed to start') })
    })
    const child: Child = {
      name: opts.name,
      pid,
      exited,
      alive: () => running,
      signal (sig) { if (running) process.kill(pid, sig) },
      async stop (graceMs = 5000) {
        child.signal('SIGTERM')
        if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return
        child.signal('SIGKILL')
        await exited
      }
    }
    if (opts.detached === true) proc.unref()
    else this.onStop(`stop ${opts.name} (PID ${pid})`, () => child.stop())
    return child
  }

  /** Registers something to undo at the end (a cluster, a temp file). */
  onStop (what: string, run: () => Promise<void>): void {
    this.undo.push({ what, run })
  }

  /** Undoes everything registered, last first; each at most once, errors reported and skipped. */
  async stopAll (log: (line: string) => void): Promise<void> {
    for (let item = this.undo.pop(); item !== undefined; item = this.undo.pop()) {
      const start = performance.now()
      try {
        await item.run()
        const ms = performance.now() - start
        // Only the slow ones: a process that needed SIGKILL, or a control plane shutting down.
        if (ms > 1000) log(`${item.what}: took ${(ms / 1000).toFixed(1)} s`)
      } catch (err) {
        log(`could not ${item.what}: ${(err as Error).message}`)
      }
    }
  }
}
