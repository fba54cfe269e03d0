/**
 * The four objects `lameduck policy` prints: a MutatingAdmissionPolicy and its binding (the
 * injection), a ValidatingAdmissionPolicy and its binding in Warn mode (the warnings: a mutating
 * policy cannot return any). The match is the webhook's (manifests/base/webhook.yaml): Pod CREATE,
 * opted-in namespaces but the excluded ones, no opted-out Pods, restartPolicy Always, no mirror Pods.
 */
import { INJECT_DISABLED, INJECT_ENABLED, INJECT_LABEL, MIRROR_ANNOTATION } from '../admission/keys.js'
import { mutationExpression, mutationVariables } from './mutation.js'
import { fittedTold, fitVariables } from './fit.js'
import { settingsVariables, type PolicySettings } from './settings.js'
import { warningValidations, warningVariables } from './warnings.js'

export const API_VERSION = 'admissionregistration.k8s.io/v1'
export const MUTATING_NAME = 'lameduck'
export const WARNINGS_NAME = 'lameduck-warnings'
const LABELS = { 'app.kubernetes.io/name': 'lameduck' }

/** A Kubernetes object as plain JSON. */
export type KubeObject = {
  apiVersion: string
  kind: string
  metadata: { name: string, labels?: Record<string, string> }
} & Record<string, unknown>

const matchConstraints = {
  resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]
}

/** The webhook's matchConditions: what can be skipped without reading the namespace. */
const matchConditions = [
  { name: 'restart-policy-always', expression: "!has(object.spec.restartPolicy) || object.spec.restartPolicy == 'Always'" },
  { name: 'not-a-mirror-pod', expression: `!has(object.metadata.annotations) || !('${MIRROR_ANNOTATION}' in object.metadata.annotations)` }
]

function matchResources (settings: PolicySettings): Record<string, unknown> {
  return {
    namespaceSelector: {
      matchLabels: { [INJECT_LABEL]: INJECT_ENABLED },
      ...(settings.excludeNamespaces.length === 0
        ? {}
        : { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...settings.excludeNamespaces] }] })
    },
    objectSelector: { matchExpressions: [{ key: INJECT_LABEL, operator: 'NotIn', values: [INJECT_DISABLED] }] }
  }
}

const object = (kind: string, name: string, spec: Record<string, unknown>): KubeObject =>
  ({ apiVersion: API_VERSION, kind, metadata: { name, labels: LABELS }, spec })

/** The four objects for these settings, in the order `kubectl apply` should create them. */
export function buildPolicyObjects (settings: PolicySettings): KubeObject[] {
  const variables = [...settingsVariables(settings), ...fitVariables()]
  return [
    object('MutatingAdmissionPolicy', MUTATING_NAME, {
      // A failure leaves the Pod as it was; it never blocks one.
      failurePolicy: 'Ignore',
      // Called again if a later mutation changes the Pod; every operation is idempotent.
      reinvocationPolicy: 'IfNeeded',
      matchConstraints,
      matchConditions,
      variables: [...variables, ...mutationVariables(settings)],
      mutations: [{ patchType: 'JSONPatch', jsonPatch: { expression: mutationExpression() } }]
    }),
    object('MutatingAdmissionPolicyBinding', MUTATING_NAME, { policyName: MUTATING_NAME, matchResources: matchResources(settings) }),
    object('ValidatingAdmissionPolicy', WARNINGS_NAME, {
      failurePolicy: 'Ignore',
      matchConstraints,
      matchConditions,
      variables: [...variables, ...mutationVariables(settings), fittedTold(settings.maxGrace), ...warningVariables()],
      validations: warningValidations(settings)
    }),
    // Warn only: the warnings policy never denies a Pod.
    object('ValidatingAdmissionPolicyBinding', WARNINGS_NAME, { policyName: WARNINGS_NAME, validationActions: ['Warn'], matchResources: matchResources(settings) })
  ]
}
