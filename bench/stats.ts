/**
 * The benchmark's arithmetic, pure so that it is unit-tested: quantiles, medians, the per-run
 * figures of a fixed-rate run, and the side-by-side keys that compare lameduck with the Go peer.
 * A ratio is always lameduck's figure divided by the Go peer's, measured in the same run.
 */

/** The value below which a fraction `q` of the sorted `values` lie (nearest rank); NaN for none. */
export function quantile (values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!
}

/** The median of some numbers, in any order. */
export function median (values: readonly number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5)
}

export const round2 = (n: number): number => Math.round(n * 100) / 100
export const round3 = (n: number): number => Math.round(n * 1000) / 1000

/** `a / b` to three places; undefined when either is missing or `b` is not above zero (no ratio to quote). */
export function ratio (a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return undefined
  return round3(a / b)
}

/** p50, p99 and p99.9 of one fixed-rate run, in ms, from its sorted latencies. */
export interface Tail { p50: number, p99: number, p999: number }

/** The tail of one run. */
export function tail (sortedMs: ArrayLike<number>): Tail {
  return { p50: quantile(sortedMs, 0.5), p99: quantile(sortedMs, 0.99), p999: quantile(sortedMs, 0.999) }
}

/** Each quantile as the median over runs: one slow run does not make the figure, nor one lucky run. */
export function medianTail (runs: readonly Tail[]): Tail {
  return { p50: median(runs.map(r => r.p50)), p99: median(runs.map(r => r.p99)), p999: median(runs.map(r => r.p999)) }
}

/** What was measured of each webhook, in the same run; any part may have been skipped. */
export interface SideBySide {
  /** Median requests/s of /mutate over the throughput rounds. */
  rps?: { lameduck: number, go: number }
  /** Fixed-rate runs at 1,000/s, alternating. */
  fixed?: { lameduck: readonly Tail[], go: readonly Tail[] }
  /** RSS in MB after start and under the soak. */
  rss?: { lameduckIdle: number, goIdle: number, lameduck: number, go: number }
  /** Added latency through the API server, in ms. */
  apiserver?: { lameduckAdded: number, goAdded: number }
}

/** The JSON keys of the comparison (BENCHMARKS.md explains each); keys of a skipped part are left out. */
export function sideBySideKeys (m: SideBySide): Record<string, number | undefined> {
  const keys: Record<string, number | undefined> = {}
  if (m.rps !== undefined)
    Object.assign(keys, { goRps: Math.round(m.rps.go), throughputVsGo: ratio(m.rps.lameduck, m.rps.go) })
  if (m.fixed !== undefined) {
    const ours = medianTail(m.fixed.lameduck)
    const theirs = medianTail(m.fixed.go)
    Object.assign(keys, {
      p50MsAt1000: round2(ours.p50), p99MsAt1000: round2(ours.p99), p999MsAt1000: round2(ours.p999),
      goP50MsAt1000: round2(theirs.p50), goP99MsAt1000: round2(theirs.p99), goP999MsAt1000: round2(theirs.p999),
      p99VsGo: ratio(ours.p99, theirs.p99), p999VsGo: ratio(ours.p999, theirs.p999), fixedRuns: m.fixed.lameduck.length
    })
  }
  if (m.rss !== undefined) {
    Object.assign(keys, {
      rssMbIdle: round2(m.rss.lameduckIdle), goRssMbIdle: round2(m.rss.goIdle), goRssMb: round2(m.rss.go),
      rssMbVsGo: ratio(m.rss.lameduck, m.rss.go), rssMbIdleVsGo: ratio(m.rss.lameduckIdle, m.rss.goIdle)
    })
  }
  if (m.apiserver !== undefined)
    Object.assign(keys, {
      goAddedMsMedian: round2(m.apiserver.goAdded),
      addedVsGo: ratio(m.apiserver.lameduckAdded, m.apiserver.goAdded)
    })
  return keys
}
