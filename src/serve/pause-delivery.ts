/**
 * How the `adaptive` handler's program reaches a Pod here, decided as `auto` is: an image volume
 * (the program's image mounted read-only, nothing copied) only where every part of the cluster has
 * them, else an init container that copies it into an emptyDir, which works everywhere. Image
 * volumes are on by default from Kubernetes 1.35 (beta; GA in 1.36) and need the runtime too:
 * containerd 2.1 or CRI-O 1.31 and newer. An older runtime fails the container, so any doubt (a
 * version not read, nodes not listed) means the init container.
 */
import type { PauseDelivery } from '../admission/types.js'

/** One node's kubelet and runtime, as `status.nodeInfo` says (`containerd://2.1.4`, `cri-o://1.31.0`). */
export interface NodeVersions { readonly kubelet: string, readonly runtime: string }

interface Version { major: number, minor: number }

/** A delivery, and why, for the log. */
interface Decision { delivery: PauseDelivery, describe: string }

const IMAGE_VOLUMES_SINCE: Version = { major: 1, minor: 35 }
/** The runtimes known to mount image volumes, from which version. */
const RUNTIMES: Readonly<Record<string, Version>> = {
  containerd: { major: 2, minor: 1 },
  'cri-o': { major: 1, minor: 31 }
}

const atLeast = (v: Version | undefined, min: Version): boolean =>
  v !== undefined && (v.major > min.major || (v.major === min.major && v.minor >= min.minor))

function parse (text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(text.trim())
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) }
}

/** Whether a node's kubelet and runtime (`containerd://2.1.4`) mount image volumes. */
function hasImageVolumes (node: NodeVersions): boolean {
  const [name = '', version = ''] = node.runtime.split('://')
  const since = RUNTIMES[name]
  return atLeast(parse(node.kubelet), IMAGE_VOLUMES_SINCE) && since !== undefined && atLeast(parse(version), since)
}

const init = (why: string): Decision => ({ delivery: 'init-container', describe: `init-container: ${why}` })

/** The delivery, and why. */
export function decidePauseDelivery (server: string, nodes: readonly NodeVersions[] | undefined): Decision {
  if (!atLeast(parse(server), IMAGE_VOLUMES_SINCE)) {
    return init(`the API server (${server}) is older than 1.35 or unknown`)
  }
  const reported = (nodes ?? []).filter(node => node.kubelet !== '')
  if (reported.length === 0) return init('no node\'s kubelet and runtime could be read')
  const lacking = reported.filter(node => !hasImageVolumes(node))
  if (lacking.length > 0) {
    const shown = [...new Set(lacking.map(node => `${node.kubelet} ${node.runtime}`))].slice(0, 3).join(', ')
    const why = 'have no image volumes (kubelet 1.35+ with containerd 2.1+ or CRI-O 1.31+)'
    return init(`${lacking.length} node(s) ${why}: ${shown}`)
  }
  const describe = `image-volume: the API server and all ${reported.length} node(s) have image volumes`
  return { delivery: 'image-volume', describe }
}
