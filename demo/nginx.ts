/**
 * A real nginx (Debian's /usr/sbin/nginx) as the demo's load balancer: its own prefix directory,
 * loopback ports, `daemon off` so that its PID is the child's and stopping it is a signal to that
 * PID. An endpoint change is a new config and SIGHUP (what `nginx -s reload` sends), which starts
 * new workers and lets the old ones finish their requests.
 */
import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Children } from './children.js'
import { renderNginxConfig } from './nginx-config.js'

/** Where Debian puts nginx. */
export const NGINX = '/usr/sbin/nginx'

/** A running nginx. */
export interface Nginx {
  readonly url: string
  readonly prefix: string
  /** Makes `addresses` (`IP:PORT`) the endpoints; resolves once new workers run with them. */
  setUpstreams(addresses: readonly string[]): Promise<void>
  accessLog(): Promise<string>
  stop(): Promise<void>
}

/** Throws a clear error when nginx is not installed. */
export async function checkNginx (): Promise<void> {
  try {
    await access(NGINX, constants.X_OK)
  } catch {
    throw new Error(`${NGINX} not found: the demo needs nginx as its load balancer. Install it with: apt-get install -y nginx (it is listed in .ci/apt-packages)`)
  }
}

const workerStarts = (log: string): number => log.match(/start worker process/g)?.length ?? 0

async function readLog (file: string): Promise<string> {
  return await readFile(file, 'utf8').catch(() => '')
}

/** Polls `ok` every 20 ms, failing after `ms` with `what`. */
async function until (what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Starts nginx in `prefix` listening on `port`, in front of `upstreams` (`IP:PORT`). */
export async function startNginx (
  children: Children,
  opts: { prefix: string, port: number, upstreams: readonly string[], retries: boolean, readTimeoutSeconds?: number }
): Promise<Nginx> {
  await checkNginx()
  const prefix = resolve(opts.prefix)
  await mkdir(join(prefix, 'tmp'), { recursive: true })
  const conf = join(prefix, 'nginx.conf')
  const errorLog = join(prefix, 'error.log')
  const write = (upstreams: readonly string[]): Promise<void> =>
    writeFile(
      conf,
      renderNginxConfig({
        prefix,
        listenPort: opts.port,
        upstreams,
        retries: opts.retries,
        ...(opts.readTimeoutSeconds === undefined ? {} : { readTimeoutSeconds: opts.readTimeoutSeconds })
      })
    )
  await write(opts.upstreams)
  // -e: the error log before the config is read, so nothing goes to /var/log/nginx.
  const child = children.start({
    name: 'nginx',
    command: NGINX,
    args: ['-p', prefix, '-c', conf, '-e', errorLog],
    logFile: join(prefix, 'stdout.log')
  })
  await until('nginx to start', async () => {
    if (!child.alive())
      throw new Error(`nginx exited: ${(await readLog(errorLog)).trim().split('\n').slice(-3).join(' | ')}`)
    return workerStarts(await readLog(errorLog)) >= 1
  })
  // One reload at a time: each waits for its own new worker.
  let queue = Promise.resolve()
  return {
    url: `http://127.0.0.1:${opts.port}/`,
    prefix,
    setUpstreams (addresses) {
      queue = queue.then(async () => {
        const before = workerStarts(await readLog(errorLog))
        await write(addresses)
        child.signal('SIGHUP')
        await until('nginx to reload', async () => workerStarts(await readLog(errorLog)) > before)
      })
      return queue
    },
    accessLog: () => readLog(join(prefix, 'access.log')),
    // SIGQUIT is nginx's graceful stop: in-flight requests finish.
    stop: async () => {
      child.signal('SIGQUIT')
      await child.stop()
    }
  }
}
