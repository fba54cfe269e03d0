/**
 * One fake cluster for the tests of `lameduck check` (test/unit/check/): it plays a script — what each
 * read answers in turn, the events each watch delivers, the evictions' answers — and records every
 * call, Job and patch; with a clock that moves only when slept. `doneScript` is a cluster in which
 * every wait is already over, for the tests of the command around the run.
 */
import type { V1Deployment, V1Job, V1Pod, V1Service } from '@kubernetes/client-node'
import type { CheckCluster, CheckEnv } from '../../src/check/run.js'
import type { EvictionOutcome } from '../../src/check/scenario.js'
import { toJsonReport } from '../../src/load/report.js'

/** What the fake cluster answers. Lists "in turn" answer one entry per read, the last one repeating. */
export interface Script {
  /** Deployment reads in turn, each laid over BASE_DEPLOYMENT. */
  deployments: Array<Partial<V1Deployment>>
  service?: V1Service
  /** Load Pod lists (selector job-name=…) in turn. */
  loadPods: V1Pod[][]
  /** The Deployment's Pod lists in turn. */
  appPods: V1Pod[][]
  /** Job reads in turn. */
  jobs: V1Job[]
  log?: string
  /** Events each watch delivers as soon as it starts: [what is watched, type, object]. */
  events?: Array<['pods' | 'endpointslices', string, unknown]>
  /** The watches end at once, with this error. */
  watchEnds?: Error
  /** Eviction answers in turn ('evicted' once they run out). */
  evictions?: EvictionOutcome[]
}

/** The Deployment every read starts from: web in shop, 3 replicas, generation 1. */
export const BASE_DEPLOYMENT: V1Deployment = {
  metadata: { name: 'web', namespace: 'shop', generation: 1 },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } }
}

/** A Deployment read whose rollout of `generation` is complete. */
export const ready = (generation: number): Partial<V1Deployment> =>
  ({ status: { observedGeneration: generation, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } })
export const runningLoadPod: V1Pod = { metadata: { name: 'lameduck-check-abcde-x1' }, status: { phase: 'Running' } }
export const completeJob: V1Job = {
  metadata: { name: 'lameduck-check-abcde' },
  status: { conditions: [{ type: 'Complete', status: 'True' }] }
}
export const activeJob: V1Job = { metadata: { name: 'lameduck-check-abcde' }, status: {} }

/** The load's JSON report line for answers with these labels ('200' is a success), 100 ms apart. */
export function reportLine (labels: string[]): string {
  const outcomes = [...new Set(labels)].map(label => ({ label, ok: label === '200' }))
  return JSON.stringify(toJsonReport({
    url: 'http://web.shop.svc:80/',
    rate: 10,
    durationMs: 100 * labels.length,
    elapsedMs: 100 * labels.length,
    aborted: false,
    count: labels.length,
    latencyMs: Float32Array.from(labels, () => 1),
    outcome: Uint16Array.from(labels, l => outcomes.findIndex(o => o.label === l)),
    outcomes,
    errorCodes: {},
    bytesIn: 0
  }))
}

/** A cluster in which every wait is already over: the run goes straight through to `log`. */
export function doneScript (log: string): Script {
  return { deployments: [ready(1)], loadPods: [[runningLoadPod]], appPods: [[]], jobs: [activeJob, completeJob], log }
}

/** The fake: the cluster, what it was asked, and a clock and log for runCheck. */
export interface FakeCheckCluster {
  cluster: CheckCluster & { evictPod: (namespace: string, name: string) => Promise<EvictionOutcome> }
  /** Each call as `method namespace/name` (listPods: `listPods namespace selector`; a watch's stop: `stop path`). */
  calls: string[]
  /** The Jobs created, and the patches sent, in order. */
  created: V1Job[]
  patches: object[]
  /** What runCheck logged through `env`, and each sleep it asked for. */
  lines: string[]
  slept: number[]
  env: Required<Pick<CheckEnv, 'log' | 'now' | 'sleep'>>
}

/** A fake cluster playing `script`; its clock starts at 1,000,000 ms. */
export function fakeCheckCluster (script: Script): FakeCheckCluster {
  // cluster and env are set below: they close over the records.
  const fake: FakeCheckCluster = {
    cluster: undefined as never, calls: [], created: [], patches: [], lines: [], slept: [], env: undefined as never
  }
  const { calls } = fake
  let now = 1_000_000
  const next = <T>(list: T[]): T => list.length > 1 ? list.shift()! : list[0]!
  const deployment = (): V1Deployment => {
    const read = next(script.deployments)
    return { ...BASE_DEPLOYMENT, ...read, metadata: { ...BASE_DEPLOYMENT.metadata, ...read.metadata } }
  }
  const service = (namespace: string, name: string): V1Service =>
    script.service ?? { metadata: { name, namespace }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }
  fake.cluster = {
    server: 'https://fake:6443',
    readDeployment: async (ns, name) => { calls.push(`readDeployment ${ns}/${name}`); return deployment() },
    readService: async (ns, name) => { calls.push(`readService ${ns}/${name}`); return service(ns, name) },
    createJob: async (ns, job) => {
      calls.push(`createJob ${ns}`)
      fake.created.push(job)
      return 'lameduck-check-abcde'
    },
    readJob: async (ns, name) => { calls.push(`readJob ${ns}/${name}`); return next(script.jobs) },
    listPods: async (ns, selector) => {
      calls.push(`listPods ${ns} ${selector}`)
      return selector.startsWith('job-name=') ? next(script.loadPods) : next(script.appPods)
    },
    patchDeployment: async (ns, name, patch) => {
      calls.push(`patchDeployment ${ns}/${name}`)
      fake.patches.push(patch)
      return { metadata: { generation: 2 } }
    },
    readLog: async (ns, pod, container) => { calls.push(`readLog ${ns}/${pod} ${container}`); return script.log ?? '' },
    watch: async (path, selector, onEvent, onEnd) => {
      calls.push(`watch ${path} ${selector}`)
      for (const [kind, type, object] of script.events ?? []) if (path.endsWith(`/${kind}`)) onEvent(type, object)
      if (script.watchEnds !== undefined) onEnd(script.watchEnds)
      return () => { calls.push(`stop ${path}`) }
    },
    evictPod: async (ns, name) => {
      calls.push(`evictPod ${ns}/${name}`)
      return script.evictions?.shift() ?? 'evicted'
    }
  }
  fake.env = {
    log: line => { fake.lines.push(line) },
    now: () => now,
    sleep: async ms => { fake.slept.push(ms); now += ms }
  }
  return fake
}

/** What was changed, in order: each patch (`patchDeployment ns/name {json}`) and each eviction. */
export function changes (fake: FakeCheckCluster): string[] {
  const patches = [...fake.patches]
  return fake.calls.flatMap(call => call.startsWith('patchDeployment')
    ? [`${call} ${JSON.stringify(patches.shift())}`]
    : call.startsWith('evictPod') ? [call] : [])
}
