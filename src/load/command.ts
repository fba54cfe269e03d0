/**
 * `lameduck load`: a fixed-rate load against one URL, reported like `vegeta report`, with the JSON
 * report (and its 100 ms timeline) in a file or, as one line, on stdout for `lameduck check`.
 */
import { writeFile } from 'node:fs/promises'
import { ConfigError, flagTable, numberFlag, parseFlags } from '../common/flags.js'
import { durationFlag } from '../options/read.js'
import { runLoad } from './run.js'
import { IDENTIFY_FORMS, parseIdentify } from './identify.js'
import { formatReport, toJsonReport } from './report.js'
import type { Io } from '../common/io.js'

export const LOAD_HELP = `Usage: lameduck load --url URL --rate R --duration D [--connections N] [--timeout T] [--no-keep-alive] [--identify SPEC] [--json FILE]

Sends GET requests to URL at a fixed rate (an open model: requests go out on schedule even when
answers are slow) and prints a report: requests, success ratio, latency percentiles, status codes
and error kinds (reset, refused, timeout). Progress goes to stderr.

  --url URL           http or https URL to load
  --rate R            requests per second
  --duration D        how long to send, e.g. 30s or 2m
  --connections N     most connections open at once (default 32)
  --timeout T         per-request limit (default 10s)
  --no-keep-alive     a new connection for every request, as new clients through kube-proxy make
                      (a kept-alive connection stays pinned to the Pod it first reached)
  --identify SPEC     read which replica answered, from ${IDENTIFY_FORMS}
                      (e.g. json:pod, header:X-Pod); the report then has each one's first and last answer
  --json FILE         also write the JSON report with a 100 ms timeline; "-" prints it as one line on stdout`

const FLAGS = flagTable(['url', 'rate', 'duration', 'connections', 'timeout', 'identify', 'json'], ['no-keep-alive'])

/** Runs `lameduck load`; resolves with the exit code (0 when the run completed, whatever failed). */
export async function runLoadCommand (argv: readonly string[], io: Io): Promise<number> {
  const { 'no-keep-alive': noKeepAlive, ...flags } = parseFlags(argv, FLAGS) as Partial<Record<Exclude<keyof typeof FLAGS, 'no-keep-alive'>, string>> & { 'no-keep-alive'?: boolean }
  if (flags.url === undefined) throw new ConfigError('--url is required')
  const options = {
    url: flags.url,
    rate: numberFlag('rate', flags.rate),
    durationMs: durationFlag('duration', flags.duration) * 1000,
    connections: numberFlag('connections', flags.connections, { fallback: 32 }),
    timeoutMs: durationFlag('timeout', flags.timeout, 10) * 1000,
    keepAlive: noKeepAlive !== true
  }
  let identify
  try {
    identify = flags.identify === undefined ? undefined : parseIdentify(flags.identify)
  } catch (error) {
    throw new ConfigError(`--${(error as Error).message}`)
  }
  let result
  try {
    result = await runLoad({ ...options, ...(identify === undefined ? {} : { identify }), onProgress: p => io.stderr(`sent ${p.sent}, answered ${p.done}, failed ${p.failed}\n`) })
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
  const report = toJsonReport(result)
  io.stdout(`${formatReport(report)}\n`)
  if (flags.json === '-') io.stdout(`${JSON.stringify(report)}\n`)
  else if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(report)}\n`)
  return 0
}
