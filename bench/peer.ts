/**
 * The Go peer (bench/go-peer/): a controller-runtime webhook that injects the same preStop sleep and
 * grace period as lameduck. Built once with the machine's Go into .lameduck/go-peer/ (a stamp of its
 * sources and Go version says when to rebuild; Go's build cache makes a rebuild quick), and run as a
 * child process with the same key pair and namespaces as lameduck.
 */
import { createHash } from 'node:crypto'
import { spawn, execFile } from 'node:child_process'
import { mkdir, open, readFile, readdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { goOutput, goStep } from '../control-plane/go.js'
import { childEnv } from '../control-plane/env.js'
import { healthy } from '../test/helpers/serve-process.js'
import { freePorts } from '../control-plane/ports.js'
import type { KeyPair, NamespaceInfo } from '../src/admission/types.js'

const SOURCE = fileURLToPath(new URL('./go-peer/', import.meta.url))
const OUT = fileURLToPath(new URL('../.lameduck/go-peer/', import.meta.url))
const BINARY = join(OUT, 'go-peer')
const STAMP = join(OUT, 'stamp')

/** A hash of what decides the binary: go.mod, go.sum, the .go files and Go's version. */
async function recipe (): Promise<string> {
  const hash = createHash('sha256').update((await goOutput(['env', 'GOVERSION'], { cwd: SOURCE })).trim())
  for (const name of (await readdir(SOURCE)).filter(n => /\.go$|^go\.(mod|sum)$/.test(n)).sort()) hash.update(name).update(await readFile(join(SOURCE, name)))
  return hash.digest('hex').slice(0, 16)
}

/** Builds the Go peer unless the stamp says it is up to date; returns the binary's path. */
export async function buildGoPeer (log: (line: string) => void): Promise<string> {
  const want = await recipe()
  const have = await readFile(STAMP, 'utf8').catch(() => '')
  if (have === want) return BINARY
  await mkdir(OUT, { recursive: true })
  log(`[go-peer] building bench/go-peer with ${(await goOutput(['env', 'GOVERSION'], { cwd: SOURCE })).trim()} (first build ~7 min on 2 cores: controller-runtime and client-go; later ones are cache hits)`)
  const seconds = await goStep('go-peer', ['build', '-trimpath', '-mod=readonly', '-o', `${BINARY}.partial`, '.'], { cwd: SOURCE, log })
  await rename(`${BINARY}.partial`, BINARY)
  await writeFile(STAMP, want)
  log(`[go-peer] built in ${seconds.toFixed(0)} s`)
  return BINARY
}

/** The namespaces file the Go peer reads: Namespace objects as JSON. */
export function namespacesJson (namespaces: readonly NamespaceInfo[]): string {
  return JSON.stringify(namespaces.map(ns => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: ns.labels, annotations: ns.annotations } })))
}

/** A running Go peer. */
export interface GoPeer { url: string, port: number, pid: number, stop: () => Promise<void> }

/**
 * Starts the Go peer on a free loopback port with the key pair written to `dir`; `cpu` pins it to
 * one CPU (taskset) from the start, so Go sizes GOMAXPROCS to it. Its log (stderr) goes to a file in
 * `dir`, not to a pipe: the bench's own process, busy generating load, drains pipes slowly, and zap's
 * blocking writes then held the Go peer to half its rate (lameduck's log is asynchronous).
 */
export async function startGoPeer (o: {
  binary: string
  dir: string
  pair: KeyPair
  namespaces: readonly NamespaceInfo[]
  cpu?: number
}): Promise<GoPeer> {
  await writeFile(join(o.dir, 'tls.crt'), o.pair.cert)
  await writeFile(join(o.dir, 'tls.key'), o.pair.key)
  await writeFile(join(o.dir, 'namespaces.json'), namespacesJson(o.namespaces))
  const [port] = (await freePorts(1)) as [number]
  const args = ['--port', String(port), '--cert-dir', o.dir, '--namespaces-file', join(o.dir, 'namespaces.json')]
  const logFile = join(o.dir, 'go-peer.log')
  const log = await open(logFile, 'w')
  const stdio: ['ignore', 'ignore', number] = ['ignore', 'ignore', log.fd]
  const child =
    o.cpu === undefined
      ? spawn(o.binary, args, { env: childEnv(), stdio })
      : spawn('taskset', ['-c', String(o.cpu), o.binary, ...args], { env: childEnv(), stdio })
  await log.close()
  const tail = async (): Promise<string> => (await readFile(logFile, 'utf8').catch(() => '')).slice(-4000)
  const exited = new Promise<void>(resolve =>
    child.on('exit', () => {
      resolve()
    })
  )
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  const url = `https://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (!(await healthy(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`the Go peer did not start: ${await tail()}`)
    }
    await sleep(100)
  }
  return { url, port, pid: child.pid!, stop }
}

/** Pins a running process and all its threads to one CPU (or a list, `0-1`). */
export async function pin (pid: number, cpu: number | string): Promise<void> {
  try {
    await promisify(execFile)('taskset', ['-a', '-p', '-c', String(cpu), String(pid)])
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new Error('taskset not found: the bench pins the load generator and the webhooks to different CPUs with it (install util-linux)')
    throw err
  }
}
