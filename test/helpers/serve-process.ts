/**
 * The real `lameduck serve` as a child process, from source (tsx), on loopback ports of its own: for
 * the reliability suite and the benchmarks, which need the process itself (its signals, its RSS).
 * Only the tail of its log is kept, since under load it writes a line per admission.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { parse } from 'yaml'
import { freePorts } from '../../control-plane/ports.js'
import { childEnv } from '../../control-plane/env.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = fileURLToPath(new URL('./run-cli.ts', import.meta.url))
const LOG_TAIL = 256 * 1024

/** A running `lameduck serve`. */
export interface ServeProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  readonly metricsPort: number
  /** The last 256 KiB of stdout and stderr. */
  log(): string
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | string>
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>
}

/**
 * Options of `startServeProcess`: its flags besides host and ports, and what it must print before it counts as started.
 */
export interface ServeProcessOptions {
  args: readonly string[]
  /** A fixed HTTPS port (e.g. to restart on the same one); default a free one. */
  port?: number
  /** Node arguments that run the CLI instead of tsx on src/ (e.g. a compiled build); the CLI's own arguments follow. */
  entry?: readonly string[]
  /** Give up waiting for /healthz after this long. Default 60 s (tsx compiles on a busy machine). */
  startTimeoutMs?: number
  /**
   * Run without NODE_OPTIONS. Under tap every child gets tap's process-tracking loader in NODE_OPTIONS
   * (tap rewrites the environment of each spawn), which a process held to the Deployment's heap flags
   * must not load: it ran out of its 128 MB at start. `env -u` drops it when the process starts.
   */
  bare?: boolean
}

/**
 * True once GET BASE/healthz answers 200 (whatever the log level, so no log line is waited for); lameduck and the
 * bench's Go peer alike.
 */
export async function healthy (base: string): Promise<boolean> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  try {
    const response = await request(`${base}/healthz`, { dispatcher })
    await response.body.dump()
    return response.statusCode === 200
  } catch {
    return false
  } finally {
    await dispatcher.close()
  }
}

/** Starts `lameduck serve` and resolves once it listens. Callers stop it (by PID) in their teardown. */
export async function startServeProcess (opts: ServeProcessOptions): Promise<ServeProcess> {
  const [freePort, metricsPort] = await freePorts(2) as [number, number]
  const port = opts.port ?? freePort
  const argv = [process.execPath, ...opts.entry ?? ['--import', 'tsx', CLI], 'serve', '--host', '127.0.0.1', '--port', String(port), '--metrics-port', String(metricsPort), ...opts.args]
  const [command, ...args] = opts.bare === true ? ['env', '-u', 'NODE_OPTIONS', ...argv] : argv
  const child = spawn(command!, args, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (chunk: string): void => { log = (log + chunk).slice(-LOG_TAIL) }
  child.stdout!.setEncoding('utf8').on('data', keep)
  child.stderr!.setEncoding('utf8').on('data', keep)
  const exited = new Promise<number | string>(resolve => child.on('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown') }))
  const stop = async (graceMs = 15_000): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const result = await exited
    clearTimeout(timer)
    return result
  }
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000)
  while (!await healthy(`https://127.0.0.1:${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(1000)
      throw new Error(`lameduck serve did not start: ${log.slice(-2000)}`)
    }
    await sleep(50)
  }
  return { child, pid: child.pid!, port, metricsPort, log: () => log, exited, stop }
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) * 1024
}

type Deployment = {
  spec: {
    template: {
      spec: {
        containers: Array<{
          env?: Array<{ name: string, value?: string }>
          resources?: { limits?: { memory?: string } }
        }>
      }
    }
  }
}

async function shippedContainer (): Promise<Deployment['spec']['template']['spec']['containers'][number]> {
  const deployment = parse(await readFile(`${ROOT}manifests/base/deployment.yaml`, 'utf8')) as Deployment
  return deployment.spec.template.spec.containers[0]!
}

/** The NODE_OPTIONS the shipped Deployment gives the webhook (its heap flags), as node arguments. */
export async function deploymentNodeOptions (): Promise<string[]> {
  const value = (await shippedContainer()).env?.find(e => e.name === 'NODE_OPTIONS')?.value
  return value === undefined ? [] : value.split(/\s+/)
}

/** The shipped Deployment's memory limit in bytes (a `Mi` or `Gi` quantity). */
export async function deploymentMemoryLimit (): Promise<number> {
  const text = (await shippedContainer()).resources?.limits?.memory ?? ''
  const match = /^(\d+)(Mi|Gi)$/.exec(text)
  if (match === null) throw new Error(`manifests/base/deployment.yaml: memory limit ${JSON.stringify(text)} is not in Mi or Gi`)
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 ** 3 : 1024 ** 2)
}

/** Inside the checkout, so that the build resolves node_modules; .lameduck/ is not committed. */
const BUILD = `${ROOT}.lameduck/bench-build`

/**
 * Compiles src/ as `npm run build` does, into .lameduck/bench-build, and returns the node arguments
 * that run its CLI with the Deployment's NODE_OPTIONS (an `entry`): the process a container runs,
 * without tsx's compiler in memory (under tsx, 128 MB of old space is not even enough to start).
 */
export async function compiledEntry (): Promise<string[]> {
  await promisify(execFile)(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', BUILD], { cwd: ROOT })
  const cli = pathToFileURL(`${BUILD}/src/cli/main.js`).href
  return [...await deploymentNodeOptions(), '--input-type=module', '-e', `import { main } from ${JSON.stringify(cli)}; process.exitCode = await main(process.argv.slice(1))`]
}
