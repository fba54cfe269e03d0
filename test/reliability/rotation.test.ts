// Certificate rotation under load: the real `lameduck serve` reads its key pair from a directory laid
// out like a Secret volume (tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>), and every 2 s a new
// pair is swapped in the way the kubelet does it (a new directory, then an atomic rename of ..data).
// Meanwhile reviews arrive over keep-alive connections and over a new TLS connection each (a
// handshake with the pair of the moment, verified against every pair's certificate). Not one may
// fail, and after each swap new handshakes must get the new certificate within a bound.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import tls from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSelfSignedKeyPair } from '../../src/tls/key-pair.js'
import type { KeyPair } from '../../src/admission/types.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { failed, startSteadyLoad } from '../helpers/steady-load.js'
import { report, scaled } from '../helpers/reliability.js'

const BODY = readFileSync(new URL('../../bench/fixtures/deployment-pod-review.json', import.meta.url), 'utf8')
const ROTATIONS = scaled(10, 60)
const EVERY_MS = 2000
/** The watcher settles for 100 ms before reading; a second is plenty even on a busy machine. */
const SERVED_WITHIN_MS = 1500

const fingerprint = (pair: KeyPair): string => new X509Certificate(pair.cert).fingerprint256

/** Writes `pair` as the Secret volume's next version and swaps ..data to it. */
async function publish (dir: string, pair: KeyPair, version: number): Promise<void> {
  const data = `..v${version}`
  await mkdir(join(dir, data))
  await writeFile(join(dir, data, 'tls.crt'), pair.cert)
  await writeFile(join(dir, data, 'tls.key'), pair.key)
  await symlink(data, join(dir, '..data_tmp'))
  await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  if (version > 0) await rm(join(dir, `..v${version - 1}`), { recursive: true })
}

/** The certificate a new handshake gets. */
function served (port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256)
      socket.destroy()
    }).on('error', reject)
  })
}

t.test(`the key pair rotated every 2 s under load, ${ROTATIONS} times: nothing fails, and the new certificate is served`, async t => {
  t.setTimeout(600_000)
  const pairs = await Promise.all(Array.from({ length: ROTATIONS + 1 }, async (_, i) => await createSelfSignedKeyPair({ dnsNames: [`rotation-${i}.example`] })))
  const dir = t.testdir({})
  await publish(dir, pairs[0]!, 0)
  await symlink('..data/tls.crt', join(dir, 'tls.crt'))
  await symlink('..data/tls.key', join(dir, 'tls.key'))
  const webhook = await startServeProcess({ args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--namespaces-file', 'examples/namespaces.yaml', '--log-level', 'warn'] })
  t.teardown(() => webhook.stop())
  const origin = `https://127.0.0.1:${webhook.port}`
  const verify = { ca: pairs.map(p => p.cert), servername: 'localhost' }
  const keepAlive = startSteadyLoad({ origin, body: BODY, rate: 100, tls: verify })
  const handshakes = startSteadyLoad({ origin, body: BODY, rate: 25, tls: verify, newConnections: true })

  const lags: number[] = []
  for (let version = 1; version <= ROTATIONS; version++) {
    await sleep(EVERY_MS)
    const swappedAt = performance.now()
    await publish(dir, pairs[version]!, version)
    while ((await served(webhook.port)) !== fingerprint(pairs[version]!) && performance.now() - swappedAt < 10_000)
      await sleep(20)
    lags.push(performance.now() - swappedAt)
  }
  await sleep(500)
  const records = [...await keepAlive.stop(), ...await handshakes.stop()]
  const bad = records.filter(failed)
  t.comment(`served the new certificate after ${lags.map(ms => ms.toFixed(0)).join(', ')} ms`)
  t.ok(records.length >= ROTATIONS * EVERY_MS / 1000 * 100, `${records.length} requests during the rotations`)
  t.same(bad.slice(0, 5), [], `none failed (${bad.length} in all)`)
  t.ok(Math.max(...lags) <= SERVED_WITHIN_MS, `each new certificate served within ${SERVED_WITHIN_MS} ms (slowest ${Math.max(...lags).toFixed(0)} ms)`)
  t.equal(await served(webhook.port), fingerprint(pairs.at(-1)!), 'the last pair is the one served')
  await report('rotation', { certRotations: ROTATIONS, rotationRequests: records.length, rotationFailedRequests: bad.length, rotationServedWithinMsMax: Math.round(Math.max(...lags)) })
})
