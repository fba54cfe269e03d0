/**
 * A steady stream of Pod creations, one after another, as a busy cluster's controllers make them:
 * each Pod is gated (a scheduling gate nobody lifts), so it is admitted, mutated or not, and never
 * runs. Every creation is recorded with when it started and ended, and how it came out: mutated by
 * lameduck, created unmutated (the webhook's failurePolicy Ignore let it through), or refused (Fail).
 */
import type { Cluster } from '../../control-plane/cluster.js'
import { AGNHOST_IMAGE } from '../../control-plane/node/images.js'
import { injected } from './e2e.js'

/** One creation: start and end in ms since the epoch, and its outcome (the refusal's message for a refused one). */
export interface Creation {
  startedAt: number
  endedAt: number
  outcome: 'mutated' | 'unmutated' | 'refused'
  message?: string
}

/** A running stream; `stop` waits for the creation in flight and resolves with all of them. */
export interface PodStream { stop(): Promise<Creation[]> }

const gatedPod = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'gated-' },
  spec: { schedulingGates: [{ name: 'lameduck.dev/e2e-never' }], containers: [{ name: 'web', image: AGNHOST_IMAGE }] }
})

/** Starts creating gated Pods in `namespace`, one at a time, until stopped. */
export function streamPods (cluster: Cluster, namespace: string): PodStream {
  const creations: Creation[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const startedAt = Date.now()
      const result = await cluster.kubectl(['create', '-n', namespace, '-f', '-', '-o', 'json'], { input: gatedPod })
      const endedAt = Date.now()
      if (result.code !== 0) creations.push({ startedAt, endedAt, outcome: 'refused', message: result.stderr.trim() })
      else {
        const marker = injected(JSON.parse(result.stdout) as Parameters<typeof injected>[0]) ?? ''
        creations.push({ startedAt, endedAt, outcome: /^sleep=/.test(marker) ? 'mutated' : 'unmutated' })
      }
    }
  })()
  return { stop: async () => { running = false; await loop; return creations } }
}
