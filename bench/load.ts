/**
 * Load for the benchmarks, with autocannon (keep-alive connections like the API server's webhook
 * client, or a new TLS connection per request), and the benchmark server as a child process.
 * Latencies are taken from autocannon's per-response event, in fractional milliseconds: its own
 * histogram rounds to whole milliseconds, too coarse for a p99 of a few.
 */
import autocannon from 'autocannon'
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Client } from 'undici'

/** What one load run measured. */
export interface LoadResult {
  readonly requests: number
  readonly rps: number
  /** Connection errors, timeouts and answers other than 200. */
  readonly failures: number
  /** Latencies of the 200 answers, in ms, sorted. */
  readonly latencies: Float64Array
}

/** One load run's shape. */
export interface LoadOptions {
  url: string
  body: string
  seconds: number
  connections: number
  /** Requests per second over all connections; unset means as fast as the server answers. */
  rate?: number
}

/** Runs one load and resolves with what it measured. */
export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = []
  let failures = 0
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: o.body,
        duration: o.seconds,
        connections: o.connections,
        pipelining: 1,
        timeout: 10,
        ...(o.rate === undefined ? {} : { overallRate: o.rate })
      },
      (err: unknown, done: autocannon.Result) => {
        if (err === null || err === undefined) resolve(done)
        else reject(err as Error)
      }
    )
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode === 200) latencies.push(ms)
      else failures++
    })
  })
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests: latencies.length + failures,
    rps: latencies.length / o.seconds,
    failures: failures + result.errors + result.timeouts,
    latencies: sorted
  }
}

/**
 * Requests as fast as they are answered, each on a new TLS connection with a full handshake (no
 * session resumption, as the API server's Go client does by default). undici, not autocannon: its
 * reconnect option does not count the answer a connection closes on.
 */
export async function runHandshakes (
  url: string,
  body: string,
  seconds: number,
  workers: number
): Promise<{ rps: number, failures: number }> {
  const deadline = performance.now() + seconds * 1000
  let ok = 0
  let failures = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const client = new Client(new URL(url).origin, {
        connect: { rejectUnauthorized: false, maxCachedSessions: 0 },
        pipelining: 0
      })
      try {
        const response = await client.request({
          method: 'POST',
          path: new URL(url).pathname,
          headers: { 'content-type': 'application/json' },
          body
        })
        await response.body.dump()
        if (response.statusCode === 200) ok++
        else failures++
      } catch {
        failures++
      } finally {
        await client.destroy()
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return { rps: ok / seconds, failures }
}

/**
 * The benchmark server (bench/server.ts) in a child process, with `nodeOptions` (the Deployment's
 * heap flags); its log lines go to /dev/null, as the Go peer's go to a file: a pipe to this process,
 * busy generating load, would measure how fast it drains pipes.
 * `stop` closes it (and writes its CPU profile, if any).
 */
export async function startBenchServer (
  o: { cpuProfDir?: string, nodeOptions?: readonly string[] } = {}
): Promise<{ url: string, pid: number, stop: () => Promise<void> }> {
  const execArgv = [
    ...(o.nodeOptions ?? []),
    '--import',
    'tsx',
    ...(o.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir])
  ]
  const child: ChildProcess = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [], {
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  const exited = new Promise<void>(resolve =>
    child.on('exit', () => {
      resolve()
    })
  )
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', message => {
      resolve((message as { port: number }).port)
    })
    child.once('exit', code => {
      reject(new Error(`bench server exited with ${String(code)}`))
    })
  })
  return {
    url: `https://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      child.send('stop')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}
