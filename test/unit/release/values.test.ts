import t from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { packagedValues } from '../../../release/values.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const image = { repository: 'ghcr.io/o/lameduck', tag: '1.2.3', digest: DIGEST }

t.test('the chart\'s values with the released image: the rest and its comments kept', async t => {
  const values = await readFile(new URL('../../../charts/lameduck/values.yaml', import.meta.url), 'utf8')
  const packaged = packagedValues(values, image)
  const before = parse(values) as Record<string, unknown>
  const after = parse(packaged) as { image: Record<string, unknown> } & Record<string, unknown>
  t.same(after.image, { ...(before.image as object), ...image }, 'repository, tag and digest set')
  t.same({ ...after, image: undefined }, { ...before, image: undefined }, 'nothing else changed')
  t.match(packaged, /# Where this release published lameduck's image[^\n]*\n {2}repository: ghcr\.io\/o\/lameduck\n/)
  t.match(packaged, /# The image this release built: pulled by digest[^\n]*\n {2}digest: "sha256:a{64}"\n/)
  t.notMatch(packaged, /No image is published yet/, 'the comment of the unreleased chart replaced')
  t.match(packaged, /^# lameduck's chart\./, 'the file\'s own comments kept')
})

t.test('values without an image section: a clear error', async t => {
  t.throws(() => packagedValues('replicas: 2\n', image), /values\.yaml: no image section/)
  t.throws(() => packagedValues('image: x\n', image), /values\.yaml: no image section/)
})

t.test('keys other than strings are left alone', async t => {
  const packaged = packagedValues('image:\n  1: one\n  repository: r\n', image)
  t.match(packaged, /^ {2}1: one$/m)
})
