/**
 * The packaged chart's values.yaml: the repository's, with the image a release publishes (its
 * repository, the version as its tag, and its digest) so that `helm install` of the package, with
 * no `--set image.*`, pulls exactly the image the release built. Pure: the comments and the order of
 * the file are kept (the yaml library's document API), only those three values and the comment on
 * them change.
 */
import { isMap, isScalar, parseDocument } from 'yaml'

/** The image a packaged chart names. */
export interface PackagedImage { readonly repository: string, readonly tag: string, readonly digest: string }

/** `values` (the text of the chart's values.yaml) with `image` set in it. */
export function packagedValues (values: string, image: PackagedImage): string {
  const doc = parseDocument(values)
  const section = doc.get('image', true)
  if (!isMap(section)) throw new Error('values.yaml: no image section')
  doc.setIn(['image', 'repository'], image.repository)
  doc.setIn(['image', 'tag'], image.tag)
  doc.setIn(['image', 'digest'], image.digest)
  // The comment over the section's first key (the unreleased chart's word on its image) is the map's.
  section.commentBefore = null
  for (const pair of section.items) {
    if (!isScalar(pair.key)) continue
    const comment = COMMENTS[String(pair.key.value)]
    if (comment !== undefined) pair.key.commentBefore = comment
  }
  return doc.toString({ lineWidth: 0 })
}

/** The comments over the values a release sets. */
const COMMENTS: Record<string, string> = {
  repository: ' Where this release published lameduck\'s image (npm run release; docs/release.md).',
  tag: ' The release\'s version; the digest below is what is pulled.',
  digest: ' The image this release built: pulled by digest, so the tag cannot move under it.'
}
