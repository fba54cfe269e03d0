/**
 * What the kubelet will do when a Pod is deleted, read from the Pod as the API server stored it (so
 * from what the webhook injected, or did not): run the `preStop` hook, send SIGTERM when it ends, and
 * SIGKILL when `terminationGracePeriodSeconds` runs out, counted from the start of `preStop`.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 * Pure: the demo prints it for each stored Pod, and marks SIGTERM on the timeline from it (the real
 * kubelet carries it out; no event says when SIGTERM went).
 */

/** The parts of a stored Pod the plan reads. */
export interface StoredPod {
  metadata: { name?: string, namespace?: string }
  spec: {
    terminationGracePeriodSeconds?: number
    containers: Array<{ name: string, lifecycle?: { preStop?: PreStopHandler } }>
  }
}

/** A `preStop` handler as Kubernetes spells it; httpGet and tcpSocket are not read. */
export interface PreStopHandler {
  sleep?: { seconds: number }
  exec?: { command?: string[] }
  httpGet?: unknown
  tcpSocket?: unknown
}

/** The termination of one Pod, in ms from the moment it is deleted. */
export interface TerminationPlan {
  pod: string
  /** How the hook reads, for people: `none`, `sleep 5s`, `exec sleep 5`. */
  preStop: string
  graceSeconds: number
  /** When SIGTERM is sent: when the hook ends (an adaptive pause's at the latest), or at the grace deadline. */
  sigtermAtMs: number
  /** When SIGKILL is sent to a process still running. */
  killAtMs: number
}

/** The kubelet's default when a Pod has none (the API server also defaults it to 30). */
export const DEFAULT_GRACE_SECONDS = 30
/**
 * A hook that uses up the whole grace period gets a one-off 2 s extension before SIGKILL
 * (the kubelet's minimumGracePeriodInSeconds), so SIGTERM still comes first.
 */
export const HOOK_OVERRUN_EXTENSION_SECONDS = 2

/**
 * The seconds an exec hook sleeps: `["sleep","5"]` or a shell line that runs `sleep 5`; undefined for anything else.
 */
function execSleepSeconds (command: readonly string[]): number | undefined {
  const [program, ...args] = command
  if (program !== undefined && /(^|\/)sleep$/.test(program) && args.length === 1 && /^\d+$/.test(args[0]!)) return Number(args[0])
  const line = /(?:^|[\s;&|(])sleep\s+(\d+)(?:\s|;|&|\)|$)/.exec(command.join(' '))
  return line === null ? undefined : Number(line[1])
}

/** lameduck's adaptive pause (`lameduck-pause wait --min 1s --max 60s …`): at least the one, at most the other. */
function adaptivePause (command: readonly string[]): { seconds: number, text: string } | undefined {
  if (!/(^|\/)lameduck-pause$/.test(command[0] ?? '') || command[1] !== 'wait') return undefined
  const flag = (name: string): string => {
    const at = command.indexOf(name)
    return at === -1 ? '?' : command[at + 1] ?? '?'
  }
  const text = `adaptive, ${flag('--min')} to ${flag('--max')} (quiet ${flag('--quiet')})`
  return { seconds: Number.parseInt(flag('--max')), text }
}

/** The pause of `handler` (its longest) and how it reads; throws for a handler the demo cannot carry out. */
function readPreStop (pod: string, handler: PreStopHandler | undefined): { seconds: number, text: string } {
  if (handler === undefined) return { seconds: 0, text: 'none' }
  if (handler.sleep !== undefined) return { seconds: handler.sleep.seconds, text: `sleep ${handler.sleep.seconds}s` }
  const command = handler.exec?.command ?? []
  const adaptive = adaptivePause(command)
  if (adaptive !== undefined) return adaptive
  const seconds = execSleepSeconds(command)
  if (seconds === undefined) throw new Error(`Pod ${pod}: the demo only reads preStop hooks that sleep, not ${JSON.stringify(handler)}`)
  return { seconds, text: `exec ${command.join(' ')}` }
}

/** The termination plan of `stored`'s first container, the one the demo runs as a process. */
export function terminationPlan (stored: StoredPod): TerminationPlan {
  const pod = `${stored.metadata.namespace ?? 'default'}/${stored.metadata.name ?? '(unnamed)'}`
  const container = stored.spec.containers[0]
  if (container === undefined) throw new Error(`Pod ${pod} has no containers`)
  const hook = readPreStop(pod, container.lifecycle?.preStop)
  const graceSeconds = stored.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS
  const overrun = hook.seconds >= graceSeconds
  const sigtermAtMs = Math.min(hook.seconds, graceSeconds) * 1000
  const killAtMs = overrun ? sigtermAtMs + HOOK_OVERRUN_EXTENSION_SECONDS * 1000 : graceSeconds * 1000
  return { pod, preStop: hook.text, graceSeconds, sigtermAtMs, killAtMs }
}
