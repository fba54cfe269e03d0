/**
 * How `lameduck check` waits: it reads a state until it is done, logs each new state once, and
 * gives up at the run's deadline (naming what it waited for and the last state it saw) or when the
 * user asked to stop.
 */
import type { WaitState } from './rollout.js'

/** Waits until `read` says done; rejects with an Error naming `what` on a timeout or an interruption. */
export type Wait = (what: string, read: () => Promise<WaitState>) => Promise<void>

/** What a wait needs of the run: its clock, its log, its deadline and whether it was interrupted. */
export interface WaitEnv {
  log (line: string): void
  now (): number
  sleep (ms: number): Promise<void>
  interrupted?: () => boolean
}

/** Between two reads while waiting, unless the run says otherwise. */
export const DEFAULT_POLL_MS = 1000

/** The wait of a run that started at `env.now()` and may take `timeoutMs`, reading every `pollMs`. */
export function createWait (env: WaitEnv, timeoutMs: number, pollMs = DEFAULT_POLL_MS): Wait {
  const deadline = env.now() + timeoutMs
  return async (what, read) => {
    let last = ''
    for (;;) {
      const state = await read()
      if (state.message !== last) env.log(state.message)
      last = state.message
      if (state.done) return
      if (env.interrupted?.() === true) throw new Error(`interrupted while waiting for ${what}`)
      if (env.now() >= deadline) {
        throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}: ${state.message}`)
      }
      await env.sleep(Math.min(pollMs, Math.max(0, deadline - env.now())))
    }
  }
}
