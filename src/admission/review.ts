/**
 * Reads an AdmissionReview body: either the parts lameduck needs, or an Error naming what is wrong
 * (answered with HTTP 400). Only what the policy reads is checked, so nothing else of a Pod is
 * judged, and nothing is coerced: the patch is computed against the object exactly as sent.
 */
import type { Pod } from './pod.js'
import { workloadKind, type Workload } from './template.js'
import { isObject } from './types.js'

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1'

/** The request fields lameduck uses. `pod` is set only for a Pod CREATE, the one thing it mutates. */
export interface ParsedReview {
  readonly uid: string
  readonly operation: string
  readonly namespace: string
  readonly dryRun: boolean
  /** Why the request is none of lameduck's business (not a Pod CREATE), when it is not. */
  readonly notForUs: string | undefined
  readonly pod: Pod | undefined
  /** Set for a workload's CREATE or UPDATE (workload.ts): reviewed for warnings, never patched. */
  readonly workload?: Workload
}

type Json = Record<string, unknown>

const isAbsent = (value: unknown): boolean => value === undefined || value === null

function checkStringMap (value: unknown, path: string): string | undefined {
  if (isAbsent(value)) return undefined
  if (!isObject(value)) return `${path} must be an object of strings`
  const bad = Object.keys(value).find(key => typeof value[key] !== 'string')
  return bad === undefined ? undefined : `${path}[${JSON.stringify(bad)}] must be a string`
}

function checkContainers (value: unknown, path: string, required: boolean): string | undefined {
  if (isAbsent(value) && !required) return undefined
  if (!Array.isArray(value)) return `${path} must be an array`
  for (const [index, container] of value.entries()) {
    if (!isObject(container)) return `${path}[${index}] must be an object`
    if (typeof container.name !== 'string') return `${path}[${index}].name must be a string`
    if (!isAbsent(container.lifecycle) && !isObject(container.lifecycle)) return `${path}[${index}].lifecycle must be an object`
  }
  return undefined
}

/** The Pod checks: a path and what is wrong there, or undefined when the Pod is usable. */
export function checkPod (value: unknown, path: string): string | undefined {
  if (!isObject(value)) return `${path} must be an object`
  const { metadata, spec } = value
  if (!isAbsent(metadata) && !isObject(metadata)) return `${path}.metadata must be an object`
  if (!isObject(spec)) return `${path}.spec must be an object`
  const grace = spec.terminationGracePeriodSeconds
  return checkStringMap(isObject(metadata) ? metadata.labels : undefined, `${path}.metadata.labels`) ??
    checkStringMap(isObject(metadata) ? metadata.annotations : undefined, `${path}.metadata.annotations`) ??
    checkContainers(spec.containers, `${path}.spec.containers`, true) ??
    checkContainers(spec.initContainers, `${path}.spec.initContainers`, false) ??
    (isAbsent(grace) || Number.isSafeInteger(grace) ? undefined : `${path}.spec.terminationGracePeriodSeconds must be an integer`)
}

function requireString (request: Json, key: string): string | Error {
  const value = request[key]
  return typeof value === 'string' && value !== '' ? value : new Error(`request.${key} must be a non-empty string`)
}

/** Why a request is not a Pod CREATE, or undefined when it is. */
function notForUs (request: Json, operation: string): string | undefined {
  const kind = isObject(request.kind) ? request.kind : {}
  if (kind.kind !== 'Pod' || (kind.group ?? '') !== '') return `kind ${String(kind.kind)}`
  if (operation !== 'CREATE') return `operation ${operation}`
  const subResource = request.subResource
  if (typeof subResource === 'string' && subResource !== '') return `subresource ${subResource}`
  return undefined
}

/** A workload's CREATE or UPDATE (not a subresource such as scale or status), or undefined. */
function readWorkload (request: Json, operation: string): Workload | Error | undefined {
  const kind = workloadKind(isObject(request.kind) ? request.kind : {})
  const subResource = request.subResource
  if (kind === undefined || (operation !== 'CREATE' && operation !== 'UPDATE') || (typeof subResource === 'string' && subResource !== '')) return undefined
  return isObject(request.object) ? { kind, object: request.object } : new Error('request.object must be an object')
}

/** Parses an AdmissionReview body; an Error names the first thing that is wrong. */
export function parseReview (body: unknown): ParsedReview | Error {
  if (!isObject(body)) return new Error('body must be an AdmissionReview object')
  if (body.kind !== 'AdmissionReview') return new Error(`kind must be AdmissionReview, not ${JSON.stringify(body.kind ?? null)}`)
  if (body.apiVersion !== ADMISSION_API_VERSION) return new Error(`apiVersion must be ${ADMISSION_API_VERSION}, not ${JSON.stringify(body.apiVersion ?? null)}`)
  const request = body.request
  if (!isObject(request)) return new Error('request must be an object')
  const uid = requireString(request, 'uid')
  if (uid instanceof Error) return uid
  const operation = requireString(request, 'operation')
  if (operation instanceof Error) return operation
  const skip = notForUs(request, operation)
  const dryRun = request.dryRun === true
  const namespace = typeof request.namespace === 'string' ? request.namespace : ''
  const workload = readWorkload(request, operation)
  if (workload instanceof Error) return workload
  if (workload !== undefined && namespace === '') return new Error(`request.namespace must be a non-empty string for a ${workload.kind}`)
  if (workload !== undefined)
    return { uid, operation, namespace, dryRun, notForUs: undefined, pod: undefined, workload }
  if (skip !== undefined) return { uid, operation, namespace, dryRun, notForUs: skip, pod: undefined }
  if (namespace === '') return new Error('request.namespace must be a non-empty string for a Pod')
  const problem = checkPod(request.object, 'request.object')
  if (problem !== undefined) return new Error(problem)
  return { uid, operation, namespace, dryRun, notForUs: undefined, pod: request.object as unknown as Pod }
}
