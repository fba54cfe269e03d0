/**
 * The janitor of a cluster with nodes: a process of its own, in its own process group (a Ctrl-C to a
 * test run does not reach it), that watches the process which started the cluster. When that
 * process is gone and its nodes are still recorded (killed, or ended without stopping them), it does
 * what `stop()` would have: stops the nodes and the control plane by the PIDs recorded, puts the
 * machine back, releases the node lock and removes the cluster's directory if it was a temporary
 * one. When the state file goes (a normal stop), it just exits.
 *
 *   node --import tsx control-plane/node/janitor.ts CLUSTER_DIR
 */
import { rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRunning, stopInReverse } from '../processes.js'
import { readNodesState, stopNodes } from './nodes.js'

const log = (line: string): void => { console.log(`${new Date().toISOString()} ${line}`) }
const dir = process.argv[2]
if (dir === undefined) {
  console.error('usage: janitor.ts CLUSTER_DIR')
  process.exit(2)
}

for (;;) {
  const state = await readNodesState(dir).catch(() => undefined)
  if (state === undefined) process.exit(0)
  if (!isRunning(state.owner)) {
    log(`the process that started the cluster in ${dir} (PID ${state.owner}) is gone: stopping what it left`)
    await stopNodes(state, log).catch((err: unknown) => { log((err as Error).message) })
    await stopInReverse(state.controlPlane).catch((err: unknown) => { log((err as Error).message) })
    if (state.owned) await rm(dir, { recursive: true, force: true })
    log('done')
    process.exit(0)
  }
  await sleep(250)
}
