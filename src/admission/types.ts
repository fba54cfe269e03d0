/**
 * The shapes the pure core and the shells agree on. Plain JSON, no client-node classes.
 */

/** True for a JSON object (not an array, not null): what every reader of untrusted JSON or YAML checks first. */
export function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** What the policy needs of a Namespace: its name, labels and annotations. */
export interface NamespaceInfo {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

/**
 * Where the webhook looks namespaces up: an informer cache in a cluster, a file offline,
 * a Map in tests. `get` answers from memory when it can; a miss may be fetched once.
 */
export interface NamespaceLookup {
  /**
   * The namespace, or undefined when it does not exist. Rejects only when it cannot be read (the
   * API server did not answer): lameduck then cannot decide, and answers 500.
   */
  get(name: string): Promise<NamespaceInfo | undefined>
  /** True once the first full list has arrived. */
  ready(): boolean
  close(): Promise<void>
}

/** A PEM key pair as served over TLS. */
export interface KeyPair {
  readonly key: string
  readonly cert: string
}

/** What `auto` stands for in a cluster: the native sleep, or exec `sleep N` where the cluster lacks it. */
export type AutoHandler = 'sleep' | 'exec'
/** The preStop handler kinds; `adaptive` runs lameduck-pause (adaptive.ts); `auto` is resolved before use. */
export type Handler = AutoHandler | 'adaptive'
export type HandlerSetting = Handler | 'auto'
/** How lameduck-pause reaches an adaptive Pod: copied in by an init container, or an image volume (1.35+). */
export type PauseDelivery = 'init-container' | 'image-volume'
