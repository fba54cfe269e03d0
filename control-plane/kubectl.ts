/**
 * Runs the built kubectl against one cluster's kubeconfig, with optional standard input and a
 * timeout. A non-zero exit is returned, not thrown: tests assert on it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { basename } from 'node:path'
import { childEnv } from './env.js'

/** What one kubectl run produced; `code` is 124 when it was killed at the timeout (as timeout(1) does). */
export interface KubectlResult { code: number, stdout: string, stderr: string }

/** Options for one run. */
export interface KubectlOptions { input?: string, timeoutMs?: number }

/** Runs still going: killed if this process exits first (a watch such as `rollout status` would outlive it). */
const running = new Set<ChildProcess>()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

/** Runs `kubectl --kubeconfig <kubeconfigPath> ...args`. */
export function runKubectl (
  binary: string,
  kubeconfigPath: string,
  args: string[],
  opts: KubectlOptions = {}
): Promise<KubectlResult> {
  return runTool(binary, ['--kubeconfig', kubeconfigPath, ...args], childEnv({ KUBECONFIG: kubeconfigPath }), opts)
}

/** Runs a command-line tool (kubectl, helm) with `env`; never throws on a non-zero exit. */
export function runTool (binary: string, args: string[], env: Record<string, string>, opts: KubectlOptions = {}):
Promise<KubectlResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  child.stdin.on('error', () => { /* kubectl may exit before reading its input; the exit code tells */ })
  child.stdin.end(opts.input ?? '')
  return new Promise((resolve, reject) => {
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
    child.on('error', (err) => { running.delete(child); clearTimeout(timer); reject(err) })
    child.on('close', (code) => {
      running.delete(child)
      clearTimeout(timer)
      const killed = `${basename(binary)} ${args.join(' ')}: killed after ${timeoutMs} ms\n`
      if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}${killed}` })
      else resolve({ code: code ?? 1, stdout, stderr })
    })
  })
}
