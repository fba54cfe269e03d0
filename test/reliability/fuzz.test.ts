// Fuzzing /mutate: malformed and mutated AdmissionReviews (fast-check), byte-level mutations of real
// fixtures, wrong content types and oversized bodies. Every answer must be 200, 400, 413 or 415; a 200
// must echo the uid, and its patch must apply to the Pod as sent and leave nothing for a second pass.
// Most bodies go through inject() (fast); a slice goes over real TLS to a listening server.
import t from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { Pool } from 'undici'
import type { Operation } from '../../src/admission/patch.js'
import { applyPatch } from '../helpers/pods.js'
import { testServer } from '../helpers/server.js'
import { report, scaled } from '../helpers/reliability.js'

const FIXTURES = ['../../examples/pod-review.json', '../../bench/fixtures/deployment-pod-review.json']
  .map(path => readFileSync(new URL(path, import.meta.url), 'utf8'))
const BODY_LIMIT = 64 * 1024
const KEYS = ['lameduck.dev/prestop-sleep', 'lameduck.dev/shutdown-budget', 'lameduck.dev/containers', 'lameduck.dev/prestop-handler', 'lameduck.dev/injected', 'lameduck.dev/inject']
const VALUES = ['0', '1', '15s', '1m30s', '10m', '99999', '-1', 'soon', '', '*', 'web,api', 'checkout,envoy', 'ghost', 'auto', 'sleep', 'exec', 'disabled', 'sleep=1s grace=2s handler=sleep containers=web']

/** One request: the bytes, and the content type they go with. */
interface Case { body: Buffer, contentType: string | undefined }

type Json = Record<string, unknown>

/** Byte-level mutations of a fixture: flips, deletions, insertions, duplications, truncation. */
const byteMutation: fc.Arbitrary<Case> = fc.record({
  source: fc.constantFrom(...FIXTURES),
  ops: fc.array(fc.record({ kind: fc.constantFrom('flip', 'delete', 'insert', 'duplicate', 'truncate'), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 64 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), { minLength: 1, maxLength: 4 })
}).map(({ source, ops }) => {
  let bytes = Buffer.from(source)
  for (const op of ops) {
    const at = Math.floor(op.at * bytes.length)
    if (op.kind === 'flip') { bytes = Buffer.from(bytes); bytes[at] = (bytes[at] ?? 0) ^ op.bytes[0]! }
    if (op.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + op.length)])
    if (op.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(op.bytes), bytes.subarray(at)])
    if (op.kind === 'duplicate') bytes = Buffer.concat([bytes.subarray(0, at + op.length), bytes.subarray(at)])
    if (op.kind === 'truncate') bytes = bytes.subarray(0, at)
  }
  return { body: bytes, contentType: 'application/json' }
})

/** Replaces (or deletes) the node at a random path of a fixture with arbitrary JSON. */
const structureMutation: fc.Arbitrary<Case> = fc.record({
  source: fc.constantFrom(...FIXTURES),
  steps: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  action: fc.constantFrom('replace', 'delete', 'wrap'),
  value: fc.jsonValue({ maxDepth: 3 })
}).map(({ source, steps, action, value }) => {
  const review = JSON.parse(source) as Json
  let holder: Json | unknown[] = review
  let key: string = Object.keys(review)[0]!
  for (const step of steps) {
    const next = (holder as Json)[key]
    if (typeof next !== 'object' || next === null) break
    const keys = Object.keys(next)
    if (keys.length === 0) break
    holder = next as Json
    key = keys[step % keys.length]!
  }
  const target = holder as Json
  if (action === 'delete') Reflect.deleteProperty(target, key)
  else target[key] = action === 'wrap' ? [target[key]] : value
  return { body: Buffer.from(JSON.stringify(review)), contentType: 'application/json' }
})

/** Valid reviews with arbitrary lameduck annotations and labels on the Pod: the 200s with patches. */
const annotated: fc.Arbitrary<Case> = fc
  .record({
    source: fc.constantFrom(...FIXTURES),
    annotations: fc.dictionary(
      fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })),
      fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 10 })),
      { maxKeys: 5 }
    ),
    grace: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
    namespace: fc.constantFrom('shop', 'shop', 'kube-system', 'unknown')
  })
  .map(({ source, annotations, grace, namespace }) => {
    const review = JSON.parse(source) as { request: Json & { object: { metadata: Json, spec: Json } } }
    review.request.namespace = namespace
    review.request.object.metadata.annotations = {
      ...(review.request.object.metadata.annotations as Json),
      ...annotations
    }
    if (grace !== undefined) review.request.object.spec.terminationGracePeriodSeconds = grace
    return { body: Buffer.from(JSON.stringify(review)), contentType: 'application/json' }
  })

/** Wrong or odd content types, and bodies over the limit. */
const envelope: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ source: fc.constantFrom(...FIXTURES), contentType: fc.constantFrom(undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/yaml', 'multipart/form-data; boundary=x', '') })
    .map(({ source, contentType }) => ({ body: Buffer.from(source), contentType })),
  fc.integer({ min: 1, max: 4 }).map(times => ({ body: Buffer.from(FIXTURES[1]!.replace('"prometheus.io/scrape":"true"', `"pad":"${'x'.repeat(BODY_LIMIT * times)}"`)), contentType: 'application/json' })),
  fc.jsonValue().map(value => ({ body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' }))
)

const anyCase = fc.oneof(
  { arbitrary: byteMutation, weight: 3 },
  { arbitrary: structureMutation, weight: 3 },
  { arbitrary: annotated, weight: 3 },
  { arbitrary: envelope, weight: 1 }
)

type Send = (c: Case) => Promise<{ status: number, text: string }>

/** What is wrong with the answer to `c`, or undefined when it is right; a 200 with a patch is sent again, patched. */
async function judge (c: Case, send: Send): Promise<string | undefined> {
  const { status, text } = await send(c)
  if (![200, 400, 413, 415].includes(status)) return `HTTP ${status}: ${text.slice(0, 200)}`
  if (status !== 200) return undefined
  const review = JSON.parse(c.body.toString('utf8')) as { request: Json & { uid: string, object: object } }
  const answer = JSON.parse(text) as {
    apiVersion?: string
    kind?: string
    response?: { uid?: string, allowed?: boolean, patch?: string, patchType?: string }
  }
  if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview' || answer.response?.allowed !== true) return `malformed 200: ${text.slice(0, 200)}`
  if (answer.response.uid !== review.request.uid) return `uid ${String(answer.response.uid)} for ${review.request.uid}`
  if (answer.response.patch === undefined) return answer.response.patchType === undefined ? undefined : 'patchType without patch'
  let patched: object
  try {
    patched = applyPatch(review.request.object, JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as Operation[])
  } catch (err) {
    return `patch does not apply: ${(err as Error).message}`
  }
  const second = await send({ body: Buffer.from(JSON.stringify({ ...review, request: { ...review.request, object: patched } })), contentType: 'application/json' })
  const again = JSON.parse(second.text) as { response?: { patch?: string } }
  return second.status === 200 && again.response?.patch === undefined ? undefined : `second pass: HTTP ${second.status}, patch ${String(again.response?.patch)}`
}

/** Sends `count` generated cases through `send`, in batches; returns how many were sent and what went wrong. */
async function fuzz (
  count: number,
  seed: number,
  send: Send,
  concurrency: number
): Promise<{ sent: number, bad: string[] }> {
  const bad: string[] = []
  let sent = 0
  for (let batch = 0; sent < count; batch++) {
    const cases = fc.sample(anyCase, { numRuns: Math.min(1000, count - sent), seed: seed + batch })
    for (let i = 0; i < cases.length; i += concurrency) {
      const verdicts = await Promise.all(
        cases
          .slice(i, i + concurrency)
          .map(async c => await judge(c, send).catch((err: unknown) => `request failed: ${String(err)}`))
      )
      for (const verdict of verdicts) if (verdict !== undefined) bad.push(verdict)
    }
    sent += cases.length
  }
  return { sent, bad }
}

const headers = (c: Case): Record<string, string> => c.contentType === undefined ? {} : { 'content-type': c.contentType }

t.test('malformed and mutated AdmissionReviews get only 200, 400, 413 or 415, and every patch is right', async t => {
  t.setTimeout(1_200_000)
  const { app } = await testServer(t, { bodyLimit: BODY_LIMIT })
  const seed = Date.now() % 1_000_000
  t.comment(`fast-check seed ${seed}`)
  const started = performance.now()
  const injected = await fuzz(scaled(100_000, 1_000_000), seed, async c => {
    const response = await app.inject({ method: 'POST', url: '/mutate', headers: headers(c), payload: c.body })
    return { status: response.statusCode, text: response.body }
  }, 16)

  t.comment(`inject(): ${injected.sent} bodies in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const pool = new Pool(`https://127.0.0.1:${(app.server.address() as { port: number }).port}`, { connections: 4, connect: { rejectUnauthorized: false } })
  t.teardown(() => pool.close())
  const overTls = await fuzz(scaled(3000, 30_000), seed + 7_777_777, async c => {
    const response = await pool.request({ method: 'POST', path: '/mutate', headers: headers(c), body: c.body })
    return { status: response.statusCode, text: await response.body.text() }
  }, 8)
  const alive = await app.inject({ method: 'GET', url: '/healthz' })

  const bad = [...injected.bad, ...overTls.bad]
  t.ok(injected.sent >= scaled(100_000, 1_000_000), `${injected.sent} bodies through inject()`)
  t.ok(overTls.sent >= scaled(3000, 30_000), `${overTls.sent} bodies over TLS`)
  t.same(bad.slice(0, 10), [], `no bad answer (${bad.length} in all)`)
  t.equal(alive.statusCode, 200, 'the server still answers')
  await report('fuzz', { fuzzBodies: injected.sent + overTls.sent, fuzzBodiesOverTls: overTls.sent, fuzzBadAnswers: bad.length, fuzzSeed: seed })
})
