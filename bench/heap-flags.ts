/**
 * The memory levers, side by side (BENCHMARKS.md, Memory): the compiled `lameduck serve` as the soak
 * runs it, once per flag set, alternating, two rounds; for each its idle RSS, RSS after 20 s at
 * 1,000 reviews/s, and /mutate throughput (8 connections, 5 s) as the price in CPU. A flag set is
 * one argument; `ENV:NAME=VALUE` in it sets an environment variable (MALLOC_ARENA_MAX).
 *
 *   . .ci/node.sh && npx tsx bench/heap-flags.ts "--max-old-space-size=128 --max-semi-space-size=8"
 * "--max-semi-space-size=1"
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compiledEntry, startServeProcess } from '../test/helpers/serve-process.js'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'
import { idleRssMb, soak } from './soak.js'
import { runLoad } from './load.js'
import { pin } from './peer.js'

const body = (await readFile('bench/fixtures/deployment-pod-review.json', 'utf8')).trim()
const variants = process.argv.slice(2).map(v => v.split(' ').filter(Boolean))
const base = await compiledEntry()
const tail = base.slice(base.indexOf('--input-type=module'))
const dir = await mkdtemp(join(tmpdir(), 'footprint-'))
const pair = await createSelfSignedKeyPair()
await writeFile(join(dir, 'tls.crt'), pair.cert)
await writeFile(join(dir, 'tls.key'), pair.key)
await pin(process.pid, 0)
for (let round = 0; round < 2; round++) {
  for (const flags of variants) {
    const envs = flags.filter(f => f.startsWith('ENV:')).map(f => f.slice(4).split('='))
    for (const [k, v] of envs) process.env[k!] = v
    const webhook = await startServeProcess({ entry: [...flags.filter(f => !f.startsWith('ENV:')), ...tail], args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--namespaces-file', 'examples/namespaces.yaml'] })
    try {
      await pin(webhook.pid, 1)
      const url = `https://127.0.0.1:${webhook.port}`
      const idle = await idleRssMb(webhook.pid, 3)
      const s = await soak({ url, pid: webhook.pid, stop: webhook.stop }, body, 20, 1000)
      const t = await runLoad({ url: `${url}/mutate`, body, seconds: 5, connections: 8 })
      console.log(JSON.stringify({ round, flags: flags.join(' '), idle: idle.toFixed(1), rssEnd: s.rssMbEnd.toFixed(1), rssMax: s.rssMbMax.toFixed(1), p99: s.p99Ms.toFixed(2), failed: s.failures, rps: Math.round(t.rps) }))
    } finally {
      for (const [k] of envs) Reflect.deleteProperty(process.env, k!)
      await webhook.stop()
    }
  }
}
