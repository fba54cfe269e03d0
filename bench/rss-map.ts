/**
 * Where the compiled `lameduck serve`'s RSS goes, idle and after 20 s at 1,000 reviews/s, by mapping
 * (/proc/PID/smaps: the node binary's pages, anonymous memory — V8's heap and malloc —, [heap]):
 * BENCHMARKS.md, Memory. `. .ci/node.sh && npx tsx bench/rss-map.ts`
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compiledEntry, startServeProcess } from '../test/helpers/serve-process.js'
import { createSelfSignedKeyPair } from '../src/tls/key-pair.js'
import { runLoad } from './load.js'
import { pin } from './peer.js'

async function smaps (pid: number): Promise<Map<string, number>> {
  const text = await readFile(`/proc/${pid}/smaps`, 'utf8')
  const out = new Map<string, number>()
  let name = ''
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) { name = head[1] === '' ? '[anon]' : head[1]!.replace(/.*\//, ''); continue }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null) out.set(name, (out.get(name) ?? 0) + Number(rss[1]))
  }
  return out
}
const body = (await readFile('bench/fixtures/deployment-pod-review.json', 'utf8')).trim()
const base = await compiledEntry()
const dir = await mkdtemp(join(tmpdir(), 'footprint-'))
const pair = await createSelfSignedKeyPair()
await writeFile(join(dir, 'tls.crt'), pair.cert)
await writeFile(join(dir, 'tls.key'), pair.key)
await pin(process.pid, 0)
const webhook = await startServeProcess({ entry: base, args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--namespaces-file', 'examples/namespaces.yaml'] })
try {
  await pin(webhook.pid, 1)
  await new Promise(r => setTimeout(r, 2000))
  const idle = await smaps(webhook.pid)
  await runLoad({ url: `https://127.0.0.1:${webhook.port}/mutate`, body, seconds: 20, connections: 16, rate: 1000 })
  const busy = await smaps(webhook.pid)
  const names = [...new Set([...idle.keys(), ...busy.keys()])].sort((a, b) => (busy.get(b) ?? 0) - (busy.get(a) ?? 0))
  for (const n of names.slice(0, 12)) console.log(n.padEnd(30), ((idle.get(n) ?? 0) / 1024).toFixed(1), '->', ((busy.get(n) ?? 0) / 1024).toFixed(1))
  const sum = (m: Map<string, number>): string => ([...m.values()].reduce((a, b) => a + b, 0) / 1024).toFixed(1)
  console.log('total', sum(idle), '->', sum(busy))
} finally {
  await webhook.stop()
}
