/**
 * Readiness probes: one HTTP(S) GET, and a loop that retries a check until it passes, the time
 * runs out, or the process it waits for exits (then the error says so at once, not at the timeout).
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'

/** How to reach an endpoint: a bearer token, and either a CA to verify against or no verification. */
export interface ProbeAuth { token?: string, ca?: string }

/** GETs `url` once and returns the status and body; rejects on connection errors. */
export function get (url: string, auth: ProbeAuth = {}): Promise<{ status: number, body: string }> {
  const target = new URL(url)
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest
  const headers = auth.token === undefined ? {} : { authorization: `Bearer ${auth.token}` }
  return new Promise((resolve, reject) => {
    const req = request(target, { headers, timeout: 2000, ...(target.protocol === 'https:' ? { ca: auth.ca, rejectUnauthorized: auth.ca !== undefined } : {}) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Calls `check` every `intervalMs` until it returns true. Fails when `timeoutMs` passes or
 * `exited` settles first, with the last error `check` threw.
 */
export async function waitUntil (
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number, intervalMs?: number, exited?: Promise<string> }
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  let exitedWith: string | undefined
  void opts.exited?.then(how => {
    exitedWith = how
  })
  let lastError = ''
  for (;;) {
    try {
      if (await check()) return
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err)
    }
    if (exitedWith !== undefined) throw new Error(`${what}: the process exited (${exitedWith})`)
    if (Date.now() >= deadline)
      throw new Error(
        `${what}: not ready after ${opts.timeoutMs / 1000} s${lastError === '' ? '' : ` (last error: ${lastError})`}`
      )
    await sleep(opts.intervalMs ?? 100)
  }
}
