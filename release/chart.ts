/**
 * The chart in a release: `helm package` of charts/lameduck, and install.yaml, the chart's objects
 * rendered with the image pinned by digest, for `kubectl apply -f`.
 * (Written against issue 21's chart and Helm build; completed when they land.)
 */

/** What the chart's values say about the image, for a release. */
export interface ReleasedImage { readonly repository: string, readonly digest: string }

/** Packages the chart into `dir`, its values naming `repository`; resolves with the package's file name. */
export async function packageChart (dir: string, repository: string): Promise<string> {
  throw new Error(`the chart comes with issue 21 (helm package into ${dir}, image.repository ${repository})`)
}

/** Writes install.yaml of `version`: the chart's objects with its defaults, the image `repository@digest`. */
export async function renderInstall (file: string, version: string, image: ReleasedImage): Promise<void> {
  throw new Error(`the chart comes with issue 21 (${file}, ${version}, ${image.repository}@${image.digest})`)
}
