/**
 * Windows Pods (`spec.os.name: windows`): the exec handler runs `["sleep","N"]` (or `/bin/sh` for
 * nginx), which Windows images do not have, so the hook would fail and the pause never happen. The
 * native sleep is run by the kubelet itself, so it works on Windows too: a Windows Pod gets it
 * whenever the cluster has it, and otherwise no hook at all, each time with a warning.
 */
import { formatDuration } from './duration.js'
import type { Pod } from './pod.js'
import type { PodSettings, PolicyLimits } from './policy.js'

const isWindows = (pod: Pod): boolean => (pod.spec.os as { name?: unknown } | undefined)?.name === 'windows'

/**
 * Settings a Windows Pod can run, or an Error (its message the warning) when it can run none. The
 * adaptive pause's program is a Linux one: such a Pod gets the native sleep of its maximum, never less.
 */
export function forWindows (pod: Pod, settings: PodSettings, limits: PolicyLimits): PodSettings | Error {
  if (settings.handler === 'sleep' || !isWindows(pod)) return settings
  const why = settings.handler === 'exec'
    ? 'Windows Pod: the exec handler runs a sleep command that Windows images do not have'
    : 'Windows Pod: the adaptive pause runs a Linux program'
  // `auto` means the native sleep exactly when the cluster (API server and kubelets) has it.
  if (limits.autoHandler !== 'sleep') return new Error(`${why}, and this cluster has no native sleep (Kubernetes older than 1.30): Pod left unchanged`)
  const { adaptive, ...rest } = settings
  if (adaptive === undefined) {
    const instead = `${why}; the native sleep is used instead`
    return { ...settings, handler: 'sleep', warnings: [...settings.warnings, instead] }
  }
  const instead = `${why}; the native sleep of its maximum, ${formatDuration(adaptive.max)}, is used instead`
  return { ...rest, handler: 'sleep', sleep: adaptive.max, warnings: [...settings.warnings, instead] }
}
