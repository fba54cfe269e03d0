/**
 * What every command shares with the CLI that dispatches it: where it writes and what it reads from
 * the environment. It sits below every command, so no command imports the dispatcher back.
 */

/** Where a command writes, and what it reads from the environment: passed in, so tests can see it. */
export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  /** All of standard input, for `-f -`; absent where there is none to read. */
  readonly stdin?: () => Promise<string>
  /**
   * Calls `handler` on Ctrl-C (SIGINT) or SIGTERM instead of the process ending there, until the
   * returned function is called: for a command that must put back what it changed. Absent where
   * there are no signals to catch.
   */
  readonly onInterrupt?: (handler: () => void) => () => void
}
