import t from 'tap'
import type { V1EndpointSlice } from '@kubernetes/client-node'
import { endpointsOf, readyAddresses } from '../../../demo/endpoints.js'

const slice = (endpoints: V1EndpointSlice['endpoints'], ports: V1EndpointSlice['ports'] = [{ name: 'http', port: 8080 }]): V1EndpointSlice =>
  ({ addressType: 'IPv4', endpoints, ports })

t.test('endpoints of the named port, ready unless said otherwise, in address order', async t => {
  const endpoints = endpointsOf([
    slice([
      { addresses: ['10.88.0.9'], conditions: { ready: false, terminating: true }, targetRef: { kind: 'Pod', name: 'web-b' } },
      { addresses: ['10.88.0.3'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-a' } },
      { addresses: ['10.88.0.4'] },
      { addresses: [] }
    ]),
    slice([{ addresses: ['10.88.0.7'] }], [{ name: 'metrics', port: 9090 }]),
    { addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }] }
  ], 'http')
  t.same(endpoints, [
    { pod: 'web-a', address: '10.88.0.3:8080', ready: true },
    { pod: '10.88.0.4', address: '10.88.0.4:8080', ready: true },
    { pod: 'web-b', address: '10.88.0.9:8080', ready: false }
  ])
  t.same(readyAddresses(endpoints), ['10.88.0.3:8080', '10.88.0.4:8080'])
})
