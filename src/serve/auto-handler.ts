/**
 * What `prestop-handler: auto` means in this cluster (docs/configuration.md): the native `sleep`
 * action when the API server is 1.30 or newer and, where nodes may be listed, no kubelet is older;
 * else `exec`. The sleep action is beta and on by default from 1.30 and GA in 1.34 (KEP-3960); an
 * older API server drops the field and an older kubelet ignores it, leaving no pause at all, so any
 * doubt means `exec`, which works on every version (given a `sleep` binary in the image).
 */
import type { Logger } from 'pino'
import type { KubeClient } from '../kube/client.js'
import { statusOf } from '../kube/errors.js'
import type { AutoHandler, PauseDelivery } from '../admission/types.js'
import { decidePauseDelivery, type NodeVersions } from './pause-delivery.js'

/** A version as `/version` gives it (major `1`, minor `29+` on GKE), or a gitVersion such as `v1.30.0-eks-123`. */
export type ServerVersion = string | { major: string | number, minor: string | number, gitVersion?: string }

/** What the choice is made from. */
export interface AutoHandlerInput {
  serverVersion: ServerVersion
  /** Every node's `status.nodeInfo.kubeletVersion`; absent when the nodes could not be listed. */
  kubeletVersions?: readonly string[]
}

/** The handler `auto` stands for, and why, in words fit for a log line. */
export interface AutoDecision {
  handler: AutoHandler
  describe: string
}

/** What `auto` means in this cluster, and how the adaptive pause's program reaches a Pod. */
export interface ClusterChoice {
  readonly handler: AutoHandler
  readonly delivery: PauseDelivery
}

interface Version { major: number, minor: number }
const SLEEP_SINCE: Version = { major: 1, minor: 30 }
const atLeast = (v: Version, min: Version): boolean =>
  v.major > min.major || (v.major === min.major && v.minor >= min.minor)
const show = (v: Version): string => `${v.major}.${v.minor}`

/** Major and minor of `v1.34.2`, `1.29+`, `v1.30.0-eks-123`; undefined when there are none. */
export function parseKubeVersion (text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(text.trim())
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) }
}

function parseServerVersion (version: ServerVersion): Version | undefined {
  if (typeof version === 'string') return parseKubeVersion(version)
  return parseKubeVersion(`${version.major}.${version.minor}`) ?? parseKubeVersion(version.gitVersion ?? '')
}

/** The handler for `auto` and the reason for it. */
export function decideAutoHandler (input: AutoHandlerInput): AutoDecision {
  const server = parseServerVersion(input.serverVersion)
  if (server === undefined) {
    return { handler: 'exec', describe: `exec: the API server version ${JSON.stringify(input.serverVersion)} cannot be read, and exec works on every version` }
  }
  if (!atLeast(server, SLEEP_SINCE)) {
    return { handler: 'exec', describe: `exec: the API server is ${show(server)}, older than ${show(SLEEP_SINCE)}` }
  }
  const onServer = `the API server is ${show(server)}`
  if (input.kubeletVersions === undefined) {
    return { handler: 'sleep', describe: `sleep: ${onServer}; kubelet versions unknown (nodes not listed)` }
  }
  // A node with no kubelet version has not reported in yet; it says nothing either way.
  const reported = input.kubeletVersions.filter(v => v !== '')
  const unreadable = reported.filter(v => parseKubeVersion(v) === undefined)
  const older = reported.filter(v => {
    const p = parseKubeVersion(v)
    return p !== undefined && !atLeast(p, SLEEP_SINCE)
  })
  if (unreadable.length > 0) return { handler: 'exec', describe: `exec: ${onServer}, but kubelet versions ${distinct(unreadable)} cannot be read` }
  if (older.length > 0) return { handler: 'exec', describe: `exec: ${onServer}, but ${older.length} node(s) run kubelets older than ${show(SLEEP_SINCE)}: ${distinct(older)}` }
  return { handler: 'sleep', describe: `sleep: ${onServer} and every kubelet (${reported.length} node(s)) is ${show(SLEEP_SINCE)} or newer` }
}

function distinct (versions: readonly string[]): string {
  const unique = [...new Set(versions)].sort()
  return unique.slice(0, 5).join(', ') + (unique.length > 5 ? ', …' : '')
}

/** What `/version` answers (the fields read here). */
interface VersionInfo {
  major: string
  minor: string
  gitVersion?: string
  emulationMajor?: string
  emulationMinor?: string
}
/** One page of the Node list (the fields read here). */
interface NodeInfo { kubeletVersion?: string, containerRuntimeVersion?: string }
interface NodePage { items: Array<{ status?: { nodeInfo?: NodeInfo } }>, metadata?: { continue?: string } }

/**
 * Asks the cluster: `/version`, then every node's kubelet and runtime versions. Not being allowed to
 * list nodes (403) is fine: the server version decides alone (and the adaptive pause is brought by
 * an init container). Rejects when `/version` cannot be read.
 */
export async function readClusterChoice (kube: KubeClient, logger: Logger): Promise<ClusterChoice> {
  let info: VersionInfo
  try {
    info = await kube.request<VersionInfo>('GET', '/version')
  } catch (err) {
    throw new Error(`cannot read the API server version (for prestop-handler auto): ${String(err)}`, { cause: err })
  }
  // Features follow the emulated version when a newer binary emulates an older release (1.31+).
  const serverVersion = {
    major: info.emulationMajor ?? info.major,
    minor: info.emulationMinor ?? info.minor,
    gitVersion: info.gitVersion
  }
  const nodes = await readNodeVersions(kube, logger)
  const kubeletVersions = nodes?.map(node => node.kubelet)
  const decision = decideAutoHandler({ serverVersion, ...(kubeletVersions === undefined ? {} : { kubeletVersions }) })
  logger.info({ handler: decision.handler }, `prestop-handler auto means ${decision.describe}`)
  const delivery = decidePauseDelivery(`${serverVersion.major}.${serverVersion.minor}`, nodes)
  logger.info({ delivery: delivery.delivery }, `the adaptive pause's program is brought by ${delivery.describe}`)
  return { handler: decision.handler, delivery: delivery.delivery }
}

async function readNodeVersions (kube: KubeClient, logger: Logger): Promise<NodeVersions[] | undefined> {
  const versions: NodeVersions[] = []
  let next: string | undefined
  try {
    do {
      // Paged, since a big cluster's full Node list runs to many megabytes.
      const page: NodePage = await kube.request<NodePage>('GET', `/api/v1/nodes?limit=500${next === undefined ? '' : `&continue=${encodeURIComponent(next)}`}`)
      for (const { status } of page.items) {
        const info = status?.nodeInfo
        versions.push({ kubelet: info?.kubeletVersion ?? '', runtime: info?.containerRuntimeVersion ?? '' })
      }
      next = page.metadata?.continue
    } while (next !== undefined && next !== '')
  } catch (err) {
    if (statusOf(err) === 403) {
      logger.info('not allowed to list nodes; prestop-handler auto is decided from the API server version alone')
    } else {
      logger.warn({ err }, 'cannot list nodes; prestop-handler auto is decided from the API server version alone')
    }
    return undefined
  }
  return versions
}
