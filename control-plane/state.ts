/**
 * The state file of the CLI's detached cluster (`.lameduck/cluster/state.json`): what
 * `cluster:down` needs to stop it by PID, and what `cluster:up` shows when one is already running.
 * Its nodes keep their own state next to it (node/nodes.ts, `nodes.json`).
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliClusterDir } from './paths.js'

/** A detached cluster as `cluster:up` left it. */
export interface ClusterState {
  dir: string
  server: string
  version: string
  kubeconfigPath: string
  pids: number[]
  startedAt: string
}

const statePath = join(cliClusterDir, 'state.json')

/** The recorded state, or undefined when there is none. */
export async function readState (): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(statePath, 'utf8')) as ClusterState
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Records the state of a started cluster. */
export async function writeState (state: ClusterState): Promise<void> {
  await writeFile(statePath, JSON.stringify(state, null, 2) + '\n')
}

/** Forgets the state (the cluster has been stopped). */
export async function removeState (): Promise<void> {
  await rm(statePath, { force: true })
}
