/**
 * Memory under a steady load: the real `lameduck serve`, compiled as for the image (self-signed, namespaces from
 * examples/namespaces.yaml) at a fixed rate for a while, its RSS read from /proc every second. Drift
 * compares the median RSS of the first window (a minute, or a quarter of a shorter soak) with the last.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { rssBytes, startServeProcess } from '../test/helpers/serve-process.js'
import { median, quantile, runLoad } from './load.js'

/** What the soak measured. */
export interface SoakResult {
  seconds: number
  rate: number
  requests: number
  failures: number
  p99Ms: number
  rssMbStart: number
  rssMbEnd: number
  rssMbMax: number
  rssDriftPct: number
}

const MB = 1024 * 1024

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Inside the checkout, so that the build resolves node_modules; .lameduck/ is not committed. */
const BUILD = `${ROOT}.lameduck/bench-build`

/**
 * Compiles src/ as `npm run build` does, into BUILD, and returns the node arguments that run its CLI:
 * the process measured is the one a container runs, without tsx's compiler in memory.
 */
/** The NODE_OPTIONS the shipped Deployment gives the webhook (its heap cap), so the soak runs it the same way. */
export async function deploymentNodeOptions (): Promise<string[]> {
  type Deployment = { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string, value?: string }> }> } } } }
  const deployment = parse(await readFile(`${ROOT}manifests/base/deployment.yaml`, 'utf8')) as Deployment
  const value = deployment.spec.template.spec.containers[0]?.env?.find(e => e.name === 'NODE_OPTIONS')?.value
  return value === undefined ? [] : value.split(/\s+/)
}

async function compiledEntry (): Promise<string[]> {
  await promisify(execFile)(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', BUILD], { cwd: ROOT })
  const cli = pathToFileURL(`${BUILD}/src/cli/main.js`).href
  return [...await deploymentNodeOptions(), '--input-type=module', '-e', `import { main } from ${JSON.stringify(cli)}; process.exitCode = await main(process.argv.slice(1))`]
}

/** Runs the soak; the webhook is stopped (by PID) whatever happens. */
export async function soak (fixture: string, seconds: number, rate: number): Promise<SoakResult> {
  const webhook = await startServeProcess({ entry: await compiledEntry(), args: ['--self-signed', '--namespaces-file', 'examples/namespaces.yaml'] })
  const samples: number[] = []
  const sampler = setInterval(() => { void rssBytes(webhook.pid).then(bytes => samples.push(bytes), () => {}) }, 1000)
  try {
    const load = await runLoad({ url: `https://127.0.0.1:${webhook.port}/mutate`, body: fixture, seconds, connections: 16, rate })
    const window = Math.max(1, Math.floor(Math.min(60, seconds / 4)))
    const first = median(samples.slice(0, window))
    const last = median(samples.slice(-window))
    return {
      seconds,
      rate,
      requests: load.requests,
      failures: load.failures,
      p99Ms: quantile(load.latencies, 0.99),
      rssMbStart: first / MB,
      rssMbEnd: samples.at(-1)! / MB,
      rssMbMax: Math.max(...samples) / MB,
      rssDriftPct: (last - first) / first * 100
    }
  } finally {
    clearInterval(sampler)
    await webhook.stop()
  }
}
