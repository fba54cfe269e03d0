import t from 'tap'
import { certsOptionsFor } from '../../../src/renew/start.js'
import { readCertsOptions } from '../../../certs-script/flags.js'

t.test('the renewal runs lameduck certs --apply with the manifests\' names and serve\'s validities and overlap', async t => {
  const options = certsOptionsFor({ kubeconfig: undefined, renewValidity: 90, renewCaValidity: 240, renewOverlap: 20 })
  t.same(options, { ...readCertsOptions(['--apply']), validityMs: 90_000, caValidityMs: 240_000, overlapMs: 20_000 })
  t.same(certsOptionsFor({ kubeconfig: 'k.yaml', renewValidity: 90, renewCaValidity: 240, renewOverlap: 20 }).cluster, { kubeconfig: 'k.yaml', context: undefined }, 'serve\'s kubeconfig')
})
