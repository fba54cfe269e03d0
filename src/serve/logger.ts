/**
 * The webhook's logger: pino JSON lines, written asynchronously. A synchronous write blocks the event
 * loop whenever the reader of stdout (the container runtime) falls behind and the pipe is full, and
 * every /mutate waiting behind it pays: a tail-latency cost that is ours. Asynchronous, lines that
 * arrive while a write is under way go out together in the next one (fewer system calls under load,
 * none held back when it is quiet), and pino flushes what is left synchronously on exit.
 */
import pino, { type Logger } from 'pino'

/** A logger at `level` writing to file descriptor `fd` (stdout by default). */
export function createLogger (level: string, fd = 1): Logger {
  return pino({ level }, pino.destination({ dest: fd, sync: false }))
}
