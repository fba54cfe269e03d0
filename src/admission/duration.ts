/**
 * Durations as the annotations write them: `15`, `15s`, `1m30s`, `2m`, `1h`. Whole seconds only,
 * because `preStop.sleep.seconds` and `terminationGracePeriodSeconds` are integers.
 */
const UNIT_SECONDS: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1 }
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

/** Whole seconds of `text`, or an Error naming what is wrong with it. */
export function parseDuration (text: string): number | Error {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return checkRange(Number(trimmed), text)
  const match = DURATION.exec(trimmed)
  if (trimmed === '' || match === null) {
    return new Error(`"${text}" is not a duration (use seconds like 15 or 15s, or 1m30s)`)
  }
  const [, h = '0', m = '0', s = '0'] = match
  return checkRange(Number(h) * UNIT_SECONDS.h! + Number(m) * UNIT_SECONDS.m! + Number(s), text)
}

function checkRange (seconds: number, text: string): number | Error {
  if (!Number.isSafeInteger(seconds) || seconds > 2 ** 31 - 1) {
    return new Error(`"${text}" is too long a duration`)
  }
  return seconds
}

/** `90` → `1m30s`, `15` → `15s`: the form the injected marker and warnings use. */
export function formatDuration (seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  const m = Math.floor(seconds / 60)
  const s = seconds % 60
  return s === 0 ? `${m}m` : `${m}m${s}s`
}
