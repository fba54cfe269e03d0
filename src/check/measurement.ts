/**
 * What a check says about the propagation delay: the per-Pod lines, the overall figures, with
 * `--measure` the recommended sleep and the line that sets it, else a warning when the old Pods'
 * pause is not longer than the delay; and the same as JSON for `--json`. Pure.
 */
import type { JsonReport } from '../load/report.js'
import { formatDelays, lastAnswers, pauseReached, podDelays, recommend, seconds, sleepWarning, summarizeDelays, type DelaySummary, type PodDelay, type Recommendation } from './delays.js'
import type { PodTimes } from './observe.js'
import { NO_VERDICT } from './verdict.js'

/** What the measurement is made from. */
export interface MeasurementInput {
  namespace: string
  deployment: string
  service: string
  url: string
  identify: string
  /** Set with `--measure`: the pause the measured Pods had. */
  measureSleepSeconds?: number
  report: JsonReport
  pods: readonly PodTimes[]
}

/** The measurement: lines for people, an exit code for `--measure`, and the JSON document. */
export interface Measurement {
  lines: string[]
  /** With `--measure`: 0 when a delay was measured in full, else 1. */
  code: 0 | 1
  delays: PodDelay[]
  summary?: DelaySummary
  recommendation?: Recommendation
  warnings: string[]
}

/** Reads the delays out of a run and words them. */
export function measure (input: MeasurementInput): Measurement {
  const delays = podDelays(input.pods, lastAnswers(input.report))
  const summary = summarizeDelays(delays)
  const lines = ['', `Propagation delay through ${input.url}: from each old Pod's deletion to the last request it answered`]
  if (delays.length > 0) lines.push(...formatDelays(delays).map(line => `  ${line}`))
  if (summary === undefined) {
    const why = delays.length === 0 ? 'no old Pod was seen leaving' : `no answer said which replica sent it (--identify ${input.identify}; docs/check.md)`
    return { lines: [...lines, `propagation delay: not measured: ${why}`], code: 1, delays, warnings: [] }
  }
  lines.push(`propagation delay: max ${seconds(summary.maxMs)}, p99 ${seconds(summary.p99Ms)} over ${summary.pods} old Pod${summary.pods === 1 ? '' : 's'}`)
  const warnings: string[] = []
  if (input.measureSleepSeconds === undefined) {
    const warning = sleepWarning(delays, summary)
    if (warning !== undefined) warnings.push(warning)
    return { lines: [...lines, ...warnings], code: 0, delays, summary, warnings }
  }
  const reached = pauseReached(delays)
  if (reached.length > 0) warnings.push(`WARNING: ${reached.join(', ')} answered until its ${input.measureSleepSeconds}s measuring pause ran out: the delay may be longer than measured; run again with a longer --measure-sleep`)
  const recommendation = recommend(input.namespace, summary.maxMs)
  lines.push(`recommended prestop-sleep: ${recommendation.sleepSeconds}s (max ${seconds(summary.maxMs)} + margin ${seconds(recommendation.marginMs)}, rounded up to the second); to set it for the namespace:`, `  ${recommendation.command}`, ...warnings)
  return { lines, code: reached.length > 0 ? 1 : 0, delays, summary, recommendation, warnings }
}

/** The `--json` document; `warningEvents` when they were read. */
export function measurementJson (
  input: MeasurementInput, m: Measurement, verdict?: { code: number, line: string },
  warningEvents?: Record<string, number>
): object {
  return {
    namespace: input.namespace,
    deployment: input.deployment,
    service: input.service,
    url: input.url,
    identify: input.identify,
    mode: input.measureSleepSeconds === undefined ? 'check' : 'measure',
    ...(input.measureSleepSeconds === undefined ? {} : { measureSleepSeconds: input.measureSleepSeconds }),
    pods: m.delays,
    delay: m.summary ?? null,
    recommendation: m.recommendation ?? null,
    warnings: m.warnings,
    ...(verdict === undefined
      ? {}
      : { verdict: { passed: verdict.code === 0, judged: verdict.code !== NO_VERDICT, line: verdict.line } }),
    ...(warningEvents === undefined ? {} : { warningEvents }),
    report: input.report
  }
}
