/**
 * One writer at a time: a `coordination.k8s.io/v1` Lease taken for the length of one renewal run
 * and given back after it, so that two webhook replicas never renew, or rotate the CA, at the same
 * moment. The Lease is shipped with the manifests (an RBAC rule cannot name the object of a
 * `create`, so the webhook may only `get` and `update` this one); taking it is an update with the
 * resourceVersion read, so of two replicas that both saw it free, one wins and the other gets a
 * conflict. A holder that died leaves it to whoever comes after `leaseDurationSeconds`.
 */

/** The Lease as this code sees it. */
export interface LeaseRecord {
  readonly holder: string | undefined
  /** When the holder took or last renewed it. */
  readonly renewTime: Date | undefined
  readonly durationSeconds: number | undefined
  readonly transitions: number
  /** For optimistic concurrency. */
  readonly resourceVersion: string
}

/** What the lock needs of the API server (lease-client.ts is the one over src/kube/). */
export interface LeaseApi {
  /** Names the Lease in messages, e.g. `Lease lameduck-system/lameduck-renew`. */
  readonly what: string
  /** The Lease; throws (one line) when it cannot be read or does not exist. */
  read(): Promise<LeaseRecord>
  /** Writes `next` over the version `current` was read at; false when someone wrote in between (409). */
  write(current: LeaseRecord, next: Omit<LeaseRecord, 'resourceVersion'>): Promise<boolean>
}

/** Options of `createLeaseLock`. */
export interface LeaseLockOptions {
  /** This replica's name in the Lease (its Pod name, or host and PID). */
  readonly identity: string
  /** How long the Lease stays ours without a word from us; longer than any run. */
  readonly durationSeconds: number
  readonly now: () => Date
}

/** Taken for one run, then given back. */
export interface LeaseLock {
  /** True when the Lease is now ours; false when another replica holds it. Throws on an API failure. */
  acquire(): Promise<boolean>
  /** Gives the Lease back, if it is still ours. Throws on an API failure. */
  release(): Promise<void>
}

/** Whether `lease` may be taken by `identity` at `now`: free, ours already, or its holder silent for too long. */
export function isFree (lease: LeaseRecord, identity: string, now: Date): boolean {
  if (lease.holder === undefined || lease.holder === '' || lease.holder === identity) return true
  if (lease.renewTime === undefined) return true
  return now.getTime() >= lease.renewTime.getTime() + (lease.durationSeconds ?? 0) * 1000
}

/** A lock over `api`'s Lease. */
export function createLeaseLock (api: LeaseApi, opts: LeaseLockOptions): LeaseLock {
  return {
    async acquire () {
      const lease = await api.read()
      const now = opts.now()
      if (!isFree(lease, opts.identity, now)) return false
      const transitions = lease.holder === opts.identity ? lease.transitions : lease.transitions + 1
      return await api.write(lease, {
        holder: opts.identity,
        renewTime: now,
        durationSeconds: opts.durationSeconds,
        transitions
      })
    },
    async release () {
      const lease = await api.read()
      if (lease.holder !== opts.identity) return
      // A conflict means someone else wrote it since: it is not ours to clear any more.
      await api.write(lease, {
        holder: undefined,
        renewTime: undefined,
        durationSeconds: lease.durationSeconds,
        transitions: lease.transitions
      })
    }
  }
}
