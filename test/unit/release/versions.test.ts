import t from 'tap'
import { imageTag, versionMismatch } from '../../../release/versions.js'

t.test('versions that agree pass; each one that does not is named with what it has', async t => {
  const agree = [{ where: 'Chart.yaml\'s version', version: '0.2.0' }, { where: 'appVersion', version: '0.2.0' }]
  t.equal(versionMismatch('0.2.0', agree), undefined)
  const disagree = [{ where: 'the image tag', version: '0.1.0' }, { where: 'values.yaml', version: '' }]
  t.equal(versionMismatch('0.2.0', [...agree, ...disagree]),
    'the versions disagree: package.json has 0.2.0, the image tag has 0.1.0, values.yaml has none')
})

t.test('the tag of an image reference, with a registry port, a digest, or none', async t => {
  t.equal(imageTag('lameduck:0.1.0'), '0.1.0')
  t.equal(imageTag('10.88.0.1:5000/lameduck:0.1.0'), '0.1.0')
  t.equal(imageTag('ghcr.io/o/lameduck:0.1.0@sha256:abc'), '0.1.0')
  t.equal(imageTag('10.88.0.1:5000/lameduck'), '')
  t.equal(imageTag('lameduck@sha256:abc'), '')
})
