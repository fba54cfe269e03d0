/**
 * The API server keeps about 4 KiB of warnings per request, all webhooks and admission plugins
 * together, and past that cuts each to 256 characters or drops them
 * (k8s.io/apiserver/pkg/endpoints/filters/warning.go: truncateAtTotalRunes 4096, truncateItemRunes 256).
 * A Pod with 30 containers once sent 30 warnings and kubectl showed 28. So lameduck names many
 * containers in one warning (names.ts) and keeps its total under a budget, ending with a line that
 * says how many were left out, rather than letting the API server drop some silently.
 */

/** lameduck's share of the 4,096: room is left for the API server's and other webhooks' warnings. */
export const WARNINGS_BUDGET = 3072

/** The warnings that fit in `budget` characters, then "… and N more" if any were left out. */
export function capWarnings (warnings: readonly string[], prefix: string, budget = WARNINGS_BUDGET): string[] {
  const kept: string[] = []
  let used = 0
  for (const [index, warning] of warnings.entries()) {
    const left = warnings.length - index
    const more = `${prefix}… and ${left} more warning${left === 1 ? '' : 's'} (lameduck preview prints them all)`
    // Each warning must leave room for the closing line, unless it is the last one.
    const room = index === warnings.length - 1 ? budget : budget - more.length
    if (used + warning.length > room) {
      kept.push(more)
      return kept
    }
    kept.push(warning)
    used += warning.length
  }
  return kept
}
