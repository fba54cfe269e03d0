/**
 * Every label and annotation key lameduck reads or writes, in one place (README.md's contract table).
 */
export const PREFIX = 'lameduck.dev/'

/**
 * The webhook's own namespace (the manifests'): never mutated by default, so it never depends on itself; its Secrets'
 * too.
 */
export const OWN_NAMESPACE = 'lameduck-system'

/** Namespace label that opts a namespace in; Pod label that opts one Pod out. */
export const INJECT_LABEL = `${PREFIX}inject`
export const INJECT_ENABLED = 'enabled'
export const INJECT_DISABLED = 'disabled'

/** Namespace or Pod annotations; a Pod's value overrides its namespace's. */
export const SLEEP_ANNOTATION = `${PREFIX}prestop-sleep`
export const BUDGET_ANNOTATION = `${PREFIX}shutdown-budget`
export const CONTAINERS_ANNOTATION = `${PREFIX}containers`
export const HANDLER_ANNOTATION = `${PREFIX}prestop-handler`
/** The `adaptive` handler's longest pause, and the quiet period after the last request that ends it sooner. */
export const ADAPTIVE_MAX_ANNOTATION = `${PREFIX}adaptive-max`
export const ADAPTIVE_QUIET_ANNOTATION = `${PREFIX}adaptive-quiet`

/** Pod annotation lameduck writes: what it injected, for audit and idempotency. */
export const INJECTED_ANNOTATION = `${PREFIX}injected`

/**
 * Set by `lameduck check` on its load Job: the Deployment it was started against (a name can be longer than a label
 * value may).
 */
export const CHECK_TARGET_ANNOTATION = `${PREFIX}check-target`

/** Set by the kubelet on static (mirror) Pods, which the API server never lets us change. */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror'
