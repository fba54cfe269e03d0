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

/** The shortest form: `90` → `1m30s`, `3600` → `1h`, `15` → `15s`, `0` → `0s`. The marker and warnings use it. */
export function formatDuration (seconds: number): string {
  if (seconds === 0) return '0s'
  const h = Math.floor(seconds / 3600)
  const m = Math.floor(seconds % 3600 / 60)
  const s = seconds % 60
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`
}
