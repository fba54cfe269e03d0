/**
 * Replicas of the sample app (sample-app.ts) as real processes on loopback ports: a replica counts
 * as ready, like a Pod whose readiness probe passed, once it answers a GET.
 */
import { join } from 'node:path'
import { request } from 'undici'
import { setTimeout as sleep } from 'node:timers/promises'
import { repoRoot } from '../control-plane/paths.js'
import { childEnv } from '../control-plane/env.js'
import { freePorts } from '../control-plane/ports.js'
import type { Child, Children } from './children.js'

/** A running replica: its Pod's name, port and process. */
export interface Replica {
  readonly name: string
  readonly port: number
  readonly process: Child
}

/** Starts the sample app as `name` and waits until it answers. */
export async function startReplica (children: Children, name: string, logDir: string): Promise<Replica> {
  const [port] = await freePorts(1) as [number]
  const process = children.start({
    name: `replica ${name}`,
    command: globalThis.process.execPath,
    args: ['--import', 'tsx', join(repoRoot, 'demo/sample-app.ts'), '--port', String(port), '--name', name],
    cwd: repoRoot,
    env: childEnv(),
    logFile: join(logDir, `${name.replaceAll('/', '_')}.log`)
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    if (!process.alive()) throw new Error(`replica ${name} exited before it answered (${await process.exited}); see ${logDir}`)
    const answered = await request(`http://127.0.0.1:${port}/ready`).then(async res => { await res.body.dump(); return res.statusCode === 200 }, () => false)
    if (answered) return { name, port, process }
    if (Date.now() > deadline) throw new Error(`replica ${name} did not answer on port ${port} within 30 s`)
    await sleep(50)
  }
}
