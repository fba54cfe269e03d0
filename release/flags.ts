/**
 * `npm run release -- --out DIR [--no-sbom]`: read once and checked. A bad flag or value is a
 * ConfigError: main.ts prints it as one line and exits 2.
 */
import { ConfigError, parseFlags } from '../src/common/flags.js'

/** What one release run does. */
export interface ReleaseOptions {
  /** The folder to write; it must not exist yet, or be empty. */
  readonly out: string
  /** Leave out the SBOM, and with it syft's build (CI's check of everything else). */
  readonly sbom: boolean
}

/** The answer to the command line: run, or print the help. */
export type ReleaseCommand = { readonly help: true } | { readonly help: false, readonly options: ReleaseOptions }

/** `npm run release -- --help`. */
export const RELEASE_HELP = `Usage: npm run release -- --out DIR [--no-sbom]

Writes a release of this commit into DIR (which must not exist yet, or be empty): the Helm chart
package, install.yaml (every object of the chart, its image pinned by digest, for kubectl apply -f),
lameduck's image from the Dockerfile as an OCI archive, its SBOM (SPDX JSON, made by syft, built
from its Go module on first use) and SHA256SUMS over all of them. It refuses a working tree with
uncommitted changes, and versions that disagree (package.json, the chart's version and appVersion,
the image tags the chart and manifests/ name). Two runs on the same commit write the same chart
and install.yaml.

  --out DIR    where the release goes
  --no-sbom    leave out the SBOM, so syft is not built (its first build takes minutes); CI's check
  --help       this text`

/** Reads the release's flags; throws ConfigError naming the first bad one. */
export function readReleaseCommand (argv: readonly string[]): ReleaseCommand {
  const flags = parseFlags(argv, { out: { type: 'string' }, 'no-sbom': { type: 'boolean' }, help: { type: 'boolean' } })
  if (flags.help === true) return { help: true }
  const out = flags.out as string | undefined
  if (out === undefined) throw new ConfigError('--out DIR is required')
  if (out.trim() === '') throw new ConfigError('--out must not be empty')
  return { help: false, options: Object.freeze({ out, sbom: flags['no-sbom'] !== true }) }
}
