/**
 * Pods and settings for tests: small builders over plain JSON, and the example review from examples/.
 */
import { readFileSync } from 'node:fs'
import jsonPatch, { type Operation } from 'fast-json-patch'
import type { Admission } from '../../src/admission/admit.js'
import type { Container, Pod } from '../../src/admission/pod.js'
import type { PolicyLimits } from '../../src/admission/policy.js'
import type { NamespaceInfo, NamespaceLookup } from '../../src/admission/types.js'

/** The server defaults: 15s sleep, 15s budget, 300s and 600s limits, `auto` meaning the native sleep. */
export const LIMITS: PolicyLimits = { defaultSleep: 15, defaultBudget: 15, maxSleep: 300, maxGrace: 600, autoHandler: 'sleep' }

/** A Pod as the API server sends it: grace already defaulted to 30. */
export function pod (
  containers: Array<Partial<Container> & { name: string }>,
  extra: { annotations?: Record<string, string>, labels?: Record<string, string>, spec?: Record<string, unknown> } = {}
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-',
      ...(extra.annotations && { annotations: extra.annotations }),
      ...(extra.labels && { labels: extra.labels })
    },
    spec: {
      containers: containers.map(c => ({ image: 'example/app:1', ...c })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      ...extra.spec
    }
  }
}

/** An opted-in namespace with these annotations. */
export function namespace (annotations: Record<string, string> = {}, name = 'shop'): NamespaceInfo {
  return { name, labels: { 'lameduck.dev/inject': 'enabled' }, annotations }
}

/**
 * examples/pod-review.json: a Deployment-created Pod (generateName, two containers, an init container, a native
 * sidecar).
 */
export function exampleReview (): { request: { uid: string, object: Pod, namespace: string } } & Record<
  string,
  unknown
> {
  return JSON.parse(readFileSync(new URL('../../examples/pod-review.json', import.meta.url), 'utf8'))
}

/** A Map-backed namespace lookup, always ready; `calls` counts lookups. */
export function mapNamespaces (list: NamespaceInfo[]): NamespaceLookup & { calls: number } {
  const byName = new Map(list.map(ns => [ns.name, ns]))
  return {
    calls: 0,
    async get (name) { this.calls++; return byName.get(name) },
    ready: () => true,
    close: async () => {}
  }
}

/** An answer that must be an AdmissionReview (HTTP 200); anything else fails the test with its error. */
export function answered (admission: Admission): Extract<Admission, { status: 200 }> {
  if (admission.status !== 200) throw new Error(`answered ${admission.status}: ${admission.body.message}`)
  return admission
}

/** Applies a patch as the API server would, to a copy, validating each operation; throws when one does not apply. */
export function applyPatch<T> (document: T, operations: readonly Operation[]): T {
  return jsonPatch.applyPatch(structuredClone(document), [...operations], true, false).newDocument
}
