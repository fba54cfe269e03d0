// SIGTERM under load, again and again: the real `lameduck serve` process, a steady stream of reviews
// over keep-alive connections, and a readiness probe every 10 ms. On SIGTERM /readyz must fail at once
// while /mutate keeps answering for the drain delay, then the process exits 0. Not one request sent
// before the probe saw readiness flip may fail (the API server stops sending once the Pod is not
// ready; what it sent before must be answered).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { startServeProcess } from '../helpers/serve-process.js'
import { failed, startSteadyLoad } from '../helpers/steady-load.js'
import { report, scaled } from '../helpers/reliability.js'

const BODY = readFileSync(new URL('../../bench/fixtures/deployment-pod-review.json', import.meta.url), 'utf8')
const RUNS = scaled(20, 100)
const DRAIN_MS = 1000

/** Polls /readyz every 10 ms; `flippedAt` is when it first answered anything but 200 after being ready. */
function watchReadiness (origin: string): {
  ready: () => boolean
  flippedAt: () => number | undefined
  stop: () => Promise<void>
} {
  const pool = new Pool(origin, { connections: 1, connect: { rejectUnauthorized: false } })
  let ready = false
  let flippedAt: number | undefined
  let running = true
  const loop = (async () => {
    while (running && flippedAt === undefined) {
      const at = performance.now()
      const ok = await pool.request({ method: 'GET', path: '/readyz' }).then(
        async r => {
          await r.body.text()
          return r.statusCode === 200
        },
        () => false
      )
      if (ok) ready = true
      else if (ready) flippedAt = at
      await sleep(10)
    }
  })()
  return {
    ready: () => ready,
    flippedAt: () => flippedAt,
    stop: async () => {
      running = false
      await loop
      await pool.destroy()
    }
  }
}

t.test(`SIGTERM under load, ${RUNS} times: nothing sent before readiness flipped fails, and the process exits 0`, async t => {
  t.setTimeout(1_200_000)
  let failedBefore = 0
  let sentBefore = 0
  let answeredWhileDraining = 0
  const exitCodes: Array<number | string> = []
  for (let run = 1; run <= RUNS; run++) {
    const webhook = await startServeProcess({ args: ['--self-signed', '--namespaces-file', 'examples/namespaces.yaml', '--drain-delay', `${DRAIN_MS / 1000}s`, '--log-level', 'warn'] })
    t.teardown(() => webhook.stop(1000))
    const origin = `https://127.0.0.1:${webhook.port}`
    const readiness = watchReadiness(origin)
    while (!readiness.ready()) await sleep(10)
    const load = startSteadyLoad({ origin, body: BODY, rate: 200, tls: { rejectUnauthorized: false } })
    await sleep(300 + Math.random() * 400)
    const signalledAt = performance.now()
    webhook.child.kill('SIGTERM')
    const code = await webhook.exited
    const records = await load.stop()
    await readiness.stop()
    const flippedAt = readiness.flippedAt() ?? signalledAt
    const before = records.filter(r => r.at < flippedAt)
    const bad = before.filter(failed)
    failedBefore += bad.length
    sentBefore += before.length
    answeredWhileDraining += records.filter(r => r.at >= flippedAt && r.status === 200).length
    exitCodes.push(code)
    t.comment(`run ${run}: ${before.length} sent before the flip (${(flippedAt - signalledAt).toFixed(0)} ms after SIGTERM), ${bad.length} failed${bad.length > 0 ? ` (${bad.slice(0, 3).map(r => r.error ?? r.status).join(', ')})` : ''}; exit ${code}`)
  }
  t.ok(sentBefore >= RUNS * 50, `${sentBefore} requests sent before readiness flipped`)
  t.equal(failedBefore, 0, 'none of them failed')
  t.ok(answeredWhileDraining > 0, `${answeredWhileDraining} more answered while draining`)
  t.same(exitCodes.filter(code => code !== 0), [], 'every run exited 0')
  await report('sigterm', { sigtermRuns: RUNS, sigtermRequestsBeforeFlip: sentBefore, sigtermFailedRequests: failedBefore, sigtermAnsweredWhileDraining: answeredWhileDraining })
})
