/**
 * The chart in a release: `helm package` of charts/lameduck, and install.yaml, the chart's objects
 * rendered with the image pinned by digest, for `kubectl apply -f`.
 * (Written against issue 21's chart and Helm build; completed when they land.)
 */
import { join } from 'node:path'
import { binDir } from '../control-plane/paths.js'

/** Helm, as the control plane's build makes it. */
export const helmBinary = join(binDir, 'helm')

/** Packages the chart into `dir`; resolves with the package's file name. */
export async function packageChart (dir: string, log: (line: string) => void): Promise<string> {
  log(`[release] (not yet: helm package into ${dir})`)
  throw new Error('the chart comes with issue 21')
}

/** Writes install.yaml: the chart's objects, the image pinned by `digest`. */
export async function renderInstall (file: string, digest: string, log: (line: string) => void): Promise<void> {
  log(`[release] (not yet: helm template into ${file} with ${digest})`)
  throw new Error('the chart comes with issue 21')
}
