/**
 * `npm run cluster:build | cluster:up | cluster:down [-- --node | --nodes N]`:
 *   build  builds the binaries once (a no-op that says so when they are current);
 *   up     starts a cluster in .lameduck/cluster/ whose processes outlive this command, and writes
 *          .lameduck/kubeconfig (builds first when binaries are missing);
 *   down   stops that cluster by PID, and its nodes, putting the machine back; running it again is harmless.
 * `--nodes N` adds N real nodes, `--node` one (root only): `build --node` builds their binaries too.
 */
import { copyFile, rm } from 'node:fs/promises'
import { relative } from 'node:path'
import { ensureBinaries, startCluster } from './cluster.js'
import { binaryPath, binDir, cliClusterDir, cliKubeconfigPath, repoRoot } from './paths.js'
import { readNodesState, stopNodes } from './node/nodes.js'
import { executableOf, isRunning, stopInReverse } from './processes.js'
import { readState, removeState, writeState, type ClusterState } from './state.js'

const log = (line: string): void => { console.log(line) }
/** `--node` is one node, `--nodes N` N of them (1 to 10); anything else is a usage error. */
function readNodes (args: readonly string[]): number {
  let nodes = 0
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--node') nodes = 1
    else if (args[i] === '--nodes' && /^([1-9]|10)$/.test(args[i + 1] ?? '')) nodes = Number(args[++i])
    else if (args[i] === '--nodes') usage(`--nodes wants a number from 1 to 10, not ${JSON.stringify(args[i + 1])}`)
    else usage(`unknown flag ${args[i]!}`)
  }
  return nodes
}

function usage (problem: string): never {
  console.error(`cluster: ${problem}`)
  console.error(`usage: tsx control-plane/cli.ts build|up|down [--node | --nodes N]   (run from ${rel(repoRoot)})`)
  process.exit(2)
}

const rel = (path: string): string => relative(process.cwd(), path) || '.'
const nodes = readNodes(process.argv.slice(3))

async function printUsage (state: ClusterState): Promise<void> {
  log(`cluster ${state.version} at ${state.server} (pids ${state.pids.join(', ')}; logs in ${rel(state.dir)}/)`)
  for (const node of (await readNodesState(state.dir))?.nodes ?? []) {
    const pids = node.pids.map(({ name, pid }) => `${name} ${pid}`).join(', ')
    log(`node:       ${node.name} at ${node.address}: ${pids} (logs in ${rel(node.dir)}/)`)
  }
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
    await printUsage(existing)
    return
  }
  if (existing !== undefined) await down()
  const started = Date.now()
  const cluster = await startCluster({ dir: cliClusterDir, detached: true, log, nodes })
  const state: ClusterState = {
    dir: cluster.dir, server: cluster.server, version: cluster.version, kubeconfigPath: cluster.kubeconfigPath,
    pids: cluster.pids, startedAt: new Date().toISOString()
  }
  await writeState(state)
  await copyFile(cluster.kubeconfigPath, cliKubeconfigPath)
  log(`cluster started in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  await printUsage(state)
}

async function down (): Promise<void> {
  const state = await readState()
  if (state === undefined) {
    log('no cluster recorded in .lameduck/cluster/; nothing to stop')
    return
  }
  const machine = await readNodesState(state.dir)
  if (machine !== undefined) await stopNodes(machine, log)
  const pids = await livePids(state)
  await stopInReverse(pids)
  await removeState()
  await rm(cliKubeconfigPath, { force: true })
  log(pids.length === 0 ? 'the recorded cluster was no longer running; state cleared' : `stopped the cluster (pids ${pids.join(', ')})`)
}

const build = (): Promise<unknown> => ensureBinaries({ log, node: nodes > 0 })
const commands: Record<string, () => Promise<unknown>> = { build, up, down }
const command = commands[process.argv[2] ?? ''] ?? usage(`unknown command ${JSON.stringify(process.argv[2] ?? '')}`)
command().then(() => { process.exit(0) }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
