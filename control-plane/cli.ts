/**
 * `npm run cluster:build | cluster:up | cluster:down [-- --node]`:
 *   build  builds the binaries once (a no-op that says so when they are current);
 *   up     starts a cluster in .lameduck/cluster/ whose processes outlive this command, and writes
 *          .lameduck/kubeconfig (builds first when binaries are missing);
 *   down   stops that cluster by PID, and its node, putting the machine back; running it again is harmless.
 * `--node` adds a real node (root only): `build --node` builds its binaries too.
 */
import { copyFile, rm } from 'node:fs/promises'
import { relative } from 'node:path'
import { ensureBinaries, startCluster } from './cluster.js'
import { binaryPath, binDir, cliClusterDir, cliKubeconfigPath, repoRoot } from './paths.js'
import { stopNode } from './node/node.js'
import { executableOf, isRunning, stopInReverse } from './processes.js'
import { readState, removeState, writeState, type ClusterState } from './state.js'

const log = (line: string): void => { console.log(line) }
const withNode = process.argv.slice(3).includes('--node')
const rel = (path: string): string => relative(process.cwd(), path) || '.'

function printUsage (state: ClusterState): void {
  log(`cluster ${state.version} at ${state.server} (pids ${state.pids.join(', ')}; logs in ${rel(state.dir)}/)`)
  if (state.node !== undefined) log(`node:       ${state.node.pids.map(({ name, pid }) => `${name} ${pid}`).join(', ')} (logs in ${rel(state.node.dir)}/)`)
  log(`kubeconfig: ${rel(cliKubeconfigPath)}`)
  log(`try:        ${rel(binaryPath('kubectl'))} --kubeconfig ${rel(cliKubeconfigPath)} get ns`)
  log('stop with:  npm run cluster:down')
}

/** Our processes among the recorded PIDs: alive and still running one of our binaries (PIDs get reused). */
async function livePids (state: ClusterState): Promise<number[]> {
  const ours: number[] = []
  for (const pid of state.pids) {
    const exe = await executableOf(pid)
    if (isRunning(pid) && exe !== undefined && exe.startsWith(binDir)) ours.push(pid)
  }
  return ours
}

async function up (): Promise<void> {
  const existing = await readState()
  if (existing !== undefined && (await livePids(existing)).length === existing.pids.length) {
    log('a cluster is already running:')
    printUsage(existing)
    return
  }
  if (existing !== undefined) await down()
  const started = Date.now()
  const cluster = await startCluster({ dir: cliClusterDir, detached: true, log, node: withNode })
  const state: ClusterState = {
    dir: cluster.dir, server: cluster.server, version: cluster.version, kubeconfigPath: cluster.kubeconfigPath, pids: cluster.pids, startedAt: new Date().toISOString(),
    ...(cluster.node === undefined ? {} : { node: cluster.node.state })
  }
  await writeState(state)
  await copyFile(cluster.kubeconfigPath, cliKubeconfigPath)
  log(`cluster started in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  printUsage(state)
}

async function down (): Promise<void> {
  const state = await readState()
  if (state === undefined) {
    log('no cluster recorded in .lameduck/cluster/; nothing to stop')
    return
  }
  if (state.node !== undefined) await stopNode(state.node, log)
  const pids = await livePids(state)
  await stopInReverse(pids)
  await removeState()
  await rm(cliKubeconfigPath, { force: true })
  log(pids.length === 0 ? 'the recorded cluster was no longer running; state cleared' : `stopped the cluster (pids ${pids.join(', ')})`)
}

const commands: Record<string, () => Promise<unknown>> = { build: () => ensureBinaries({ log, node: withNode }), up, down }
const command = commands[process.argv[2] ?? '']
if (command === undefined) {
  console.error(`usage: tsx control-plane/cli.ts build|up|down [--node]   (run from ${rel(repoRoot)})`)
  process.exit(2)
}
command().then(() => { process.exit(0) }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
