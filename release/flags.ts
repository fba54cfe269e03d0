/**
 * `npm run release -- --out DIR [--image REPOSITORY] [--no-sbom]`: read once and checked. A bad flag or value is a
 * ConfigError: main.ts prints it as one line and exits 2.
 */
import { ConfigError, flagTable, parseFlags } from '../src/common/flags.js'

/** An image repository without tag or digest: lower-case path components, a host with a port first. */
const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/

/** What one release run does. */
export interface ReleaseOptions {
  /** The folder to write; it must not exist yet, or be empty. */
  readonly out: string
  /** Leave out the SBOM, and with it syft's build (CI's check of everything else). */
  readonly sbom: boolean
  /** Where the image is published: the chart's values and install.yaml name it; default the chart's own. */
  readonly image: string | undefined
}

/** The answer to the command line: run, or print the help. */
export type ReleaseCommand = { readonly help: true } | { readonly help: false, readonly options: ReleaseOptions }

/** `npm run release -- --help`. */
export const RELEASE_HELP = `Usage: npm run release -- --out DIR [--image REPOSITORY] [--no-sbom]

Writes a release of this commit into DIR (which must not exist yet, or be empty): the Helm chart
package, install.yaml (every object of the chart, its image pinned by digest, for kubectl apply -f),
lameduck's image from the Dockerfile as an OCI archive, its SBOM (SPDX JSON, made by syft, built
from its Go module on first use) and SHA256SUMS over all of them. It refuses a working tree with
uncommitted changes, and versions that disagree (package.json, the chart's version and appVersion,
the image tags the chart and manifests/ name). Two runs on the same commit write the same chart
and install.yaml.

  --out DIR            where the release goes
  --image REPOSITORY   where the image will be published (e.g. ghcr.io/OWNER/lameduck): the packaged
                       chart's values and install.yaml name it (default: the chart's image.repository)
  --no-sbom            leave out the SBOM, so syft is not built (its first build takes minutes); CI's check
  --help               this text`

/** Reads the release's flags; throws ConfigError naming the first bad one. */
export function readReleaseCommand (argv: readonly string[]): ReleaseCommand {
  const flags = parseFlags(argv, flagTable(['out', 'image'], ['no-sbom', 'help']))
  if (flags.help === true) return { help: true }
  const out = flags.out as string | undefined
  if (out === undefined) throw new ConfigError('--out DIR is required')
  if (out.trim() === '') throw new ConfigError('--out must not be empty')
  const image = flags.image as string | undefined
  if (image !== undefined && !REPOSITORY.test(image)) {
    throw new ConfigError(`--image: ${JSON.stringify(image)} is not an image repository (no tag or digest), e.g. ghcr.io/o/lameduck`)
  }
  return { help: false, options: Object.freeze({ out, sbom: flags['no-sbom'] !== true, image }) }
}
