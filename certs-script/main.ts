/**
 * `lameduck certs`: the certificate bootstrap and renewal (docs/operations-certificates.md).
 * src/cli/main.ts dispatches to `runCerts`; `--help` prints `CERTS_HELP`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Io } from '../src/common/io.js'
import type { ClusterApi } from '../src/certs/cluster-api.js'
import type { KubeTarget } from '../src/kube/access.js'
import { readCertsOptions } from '../src/certs/flags.js'
import { renewOnce, type Deps } from '../src/certs/run.js'

export { CERTS_HELP } from '../src/certs/flags.js'

/* c8 ignore start -- the real cluster client and clock: test/unit/certs/cluster.test.ts covers
   connectCluster against a loopback API server, and test/e2e/install.test.ts runs `lameduck certs`
   against a real one; this file's unit test passes its own. */
/** The real cluster client, loaded only when a cluster is asked for. */
async function connect (target: KubeTarget): Promise<ClusterApi> {
  const { connectCluster } = await import('../src/certs/cluster.js')
  return await connectCluster(target)
}

async function pause (ms: number): Promise<void> {
  await sleep(ms)
}
/* c8 ignore stop */

/**
 * Runs `lameduck certs` with `deps` (tests pass their own cluster and clock). With --wait, a run
 * that leaves an old CA in the caBundle waits out the overlap and runs again to drop it.
 */
export async function runCertsWith (argv: readonly string[], deps: Deps): Promise<number> {
  const options = readCertsOptions(argv)
  let result = await renewOnce(options, deps)
  while (options.wait && result.pendingUntil !== undefined) {
    const ms = Math.max(0, result.pendingUntil.getTime() - deps.now().getTime())
    deps.say(`waiting ${Math.ceil(ms / 1000)}s, until ${result.pendingUntil.toISOString()}, to drop the previous CA (--wait)`)
    await deps.sleep(ms)
    // The renewal is done: the second pass only finishes the caBundle.
    result = await renewOnce({ ...options, force: false, rotateCa: false }, deps)
  }
  return 0
}

/**
 * `lameduck certs [flags]`: progress on stdout, exit code 0. A bad flag throws ConfigError (cli.ts:
 * exit 2); any other failure throws an Error with one line saying what failed (exit 1).
 */
export async function runCerts (argv: readonly string[], io: Io): Promise<number> {
  return await runCertsWith(argv, {
    connect,
    now: () => new Date(),
    sleep: pause,
    say: line => { io.stdout(`${line}\n`) }
  })
}
