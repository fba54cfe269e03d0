import t from 'tap'
import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node'
import { createObservation, observePods, observeSlices, preStopSleepSeconds } from '../../../src/check/observe.js'

const pod = (
  name: string,
  extra: { deleting?: string | Date, preStop?: object, finishedAt?: string | Date } = {}
): V1Pod => ({
  metadata: { name, ...(extra.deleting === undefined ? {} : { deletionTimestamp: extra.deleting as Date }) },
  spec: {
    containers: [{ name: 'web', ...(extra.preStop === undefined ? {} : { lifecycle: { preStop: extra.preStop } }) }]
  },
  ...(extra.finishedAt === undefined
    ? {}
    : {
        status: {
          containerStatuses: [
            {
              name: 'web',
              image: 'i',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 0, finishedAt: extra.finishedAt as Date } }
            }
          ]
        }
      })
})

const slice = (name: string, endpoints: Array<[string | undefined, boolean | undefined]>): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { name },
  endpoints: endpoints.map(([pod, ready], i) => ({ addresses: [`10.88.0.${i + 2}`], ...(ready === undefined ? {} : { conditions: { ready } }), ...(pod === undefined ? {} : { targetRef: { name: pod } }) }))
})

t.test('the preStop pause: native sleep, exec sleep N, or unknown', async t => {
  t.equal(preStopSleepSeconds(pod('a', { preStop: { sleep: { seconds: 20 } } })), 20)
  t.equal(preStopSleepSeconds(pod('a', { preStop: { exec: { command: ['sleep', '7'] } } })), 7)
  t.equal(preStopSleepSeconds(pod('a', { preStop: { exec: { command: ['/bin/sleep', '7'] } } })), 7)
  t.equal(preStopSleepSeconds(pod('a', { preStop: { exec: { command: ['sh', '-c', 'sleep 7'] } } })), undefined)
  t.equal(preStopSleepSeconds(pod('a', { preStop: { exec: { command: ['sleep', 'x'] } } })), undefined)
  t.equal(preStopSleepSeconds(pod('a', { preStop: { httpGet: { port: 80 } } })), undefined)
  t.equal(preStopSleepSeconds(pod('a')), undefined)
  t.equal(preStopSleepSeconds({}), undefined)
})

t.test('a deletion is noted when first seen, with SIGTERM after the pause; the exit when the status has it', async t => {
  const o = createObservation()
  observePods(o, [pod('web-a'), pod('web-b', { deleting: '2026-11-30T06:00:30Z', preStop: { sleep: { seconds: 20 } } })], 1000)
  t.same([...o.pods.keys()], ['web-b'], 'only a Pod that is leaving')
  t.same(o.pods.get('web-b'), { pod: 'web-b', deletedAt: 1000, deletionTimestamp: '2026-11-30T06:00:30Z', sleepSeconds: 20, sigtermAt: 21_000 })
  observePods(o, [pod('web-b', { deleting: '2026-11-30T06:00:30Z', finishedAt: '2026-11-30T06:00:25Z' })], 5000)
  t.equal(o.pods.get('web-b')!.deletedAt, 1000, 'the first sight counts')
  t.equal(o.pods.get('web-b')!.exitedAt, Date.parse('2026-11-30T06:00:25Z'))
  observePods(o, [pod('web-b', { deleting: '2026-11-30T06:00:30Z', finishedAt: '2026-11-30T06:00:29Z' })], 6000)
  t.equal(o.pods.get('web-b')!.exitedAt, Date.parse('2026-11-30T06:00:25Z'), 'and the first exit')
  observePods(o, [pod('web-c', { deleting: new Date('2026-11-30T06:00:31Z'), finishedAt: new Date('2026-11-30T06:00:02Z') }), { metadata: { deletionTimestamp: new Date(0) } }], 7000)
  t.same(o.pods.get('web-c'), { pod: 'web-c', deletedAt: 7000, deletionTimestamp: '2026-11-30T06:00:31.000Z', exitedAt: Date.parse('2026-11-30T06:00:02Z') }, 'client-node\'s Dates too; no pause known, no SIGTERM')
  t.ok(o.pods.has(''), 'a nameless Pod is still a Pod')
})

t.test('an endpoint turning not ready, and leaving the EndpointSlices', async t => {
  const o = createObservation()
  observeSlices(o, [slice('s1', [['web-a', undefined], ['web-b', true], [undefined, true]])], 100)
  observePods(o, [pod('web-a', { deleting: '2026-11-30T06:00:30Z' })], 200)
  observeSlices(o, [slice('s1', [['web-a', false], ['web-b', false], ['web-c', undefined]])], 300)
  t.equal(o.pods.get('web-a')!.endpointNotReadyAt, 300)
  t.notOk(o.pods.has('web-b'), 'a Pod not seen leaving is no old Pod')
  observeSlices(o, [slice('s1', [['web-a', false], ['web-c', true]])], 400)
  t.equal(o.pods.get('web-a')!.endpointNotReadyAt, 300, 'the first time counts')
  t.equal(o.pods.get('web-a')!.endpointRemovedAt, undefined)
  observeSlices(o, [slice('s1', [['web-c', true]]), { addressType: 'IPv4' }], 500)
  t.equal(o.pods.get('web-a')!.endpointRemovedAt, 500)
  observeSlices(o, [slice('s1', [])], 600)
  t.equal(o.pods.get('web-a')!.endpointRemovedAt, 500)
  observePods(o, [pod('web-d', { deleting: '2026-11-30T06:00:30Z' })], 700)
  observeSlices(o, [], 800)
  t.same([o.pods.get('web-d')!.endpointNotReadyAt, o.pods.get('web-d')!.endpointRemovedAt], [undefined, undefined], 'never seen in a slice: nothing to say')
  const gone = createObservation()
  observeSlices(gone, [slice('s1', [['web-e', true]])], 0)
  observePods(gone, [pod('web-e', { deleting: '2026-11-30T06:00:30Z' })], 10)
  observeSlices(gone, [], 20)
  t.same([gone.pods.get('web-e')!.endpointNotReadyAt, gone.pods.get('web-e')!.endpointRemovedAt], [20, 20], 'gone at once: not ready from then too')
})
