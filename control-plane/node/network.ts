/**
 * The nodes' network, all of it on addresses the project makes (config.ts): the machine's bridge
 * `lameduck0` with the gateway address and the guard rules; for each node a network namespace of its
 * own (as a kind node has: every node gets the same ports, and kube-proxy's rules stay per node),
 * joined to the bridge by a veth, with its address and a default route to the machine; and the routes
 * that lead every node, and the machine, to each node's Pod CIDR through that node's address.
 * Nothing here sets a kernel setting of the machine: each node forwards inside its own namespace.
 */
import { NODE, type NodeSpec } from './config.js'
import { guardRules, lostNodeRules, nodeGuardRules } from './rules.js'
import { removeBridge, run } from './system.js'

/** `ip` inside a node's namespace. */
function ipIn (spec: NodeSpec, args: string[]): Promise<string> {
  return run('ip', ['-n', spec.netns, ...args])
}

/** The path that `nsenter --net=` takes to run a command inside a node's namespace. */
export function netnsPath (spec: NodeSpec): string {
  return `/run/netns/${spec.netns}`
}

/** Creates the bridge with the gateway address and the route to Services, and loads the guard rules. */
export async function setUpMachineNetwork (): Promise<void> {
  await removeBridge()
  await run('ip', ['link', 'add', NODE.bridge, 'type', 'bridge'])
  await run('ip', ['addr', 'add', `${NODE.gateway}/24`, 'dev', NODE.bridge])
  await run('ip', ['link', 'set', NODE.bridge, 'up'])
  // Service addresses through the bridge, from its address: the machine's own clients of a ClusterIP
  // (the API server calling a webhook, through the machine's kube-proxy) never use the machine's
  // interface address, and a ClusterIP with no endpoints never follows the default route.
  await run('ip', ['route', 'add', NODE.serviceCidr, 'dev', NODE.bridge, 'src', NODE.gateway])
  await run('nft', ['delete', 'table', 'inet', NODE.guardTable]).catch(() => '')
  await run('nft', ['-f', '-'], guardRules())
}

/**
 * A node's namespace and link: `eth0` with the node's address, its other end on the bridge, a
 * default route to the machine, and the node's guard rules inside it.
 */
export async function setUpNodeNetwork (spec: NodeSpec): Promise<void> {
  await run('ip', ['netns', 'add', spec.netns])
  await run('ip', ['link', 'add', spec.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', spec.netns])
  await run('ip', ['link', 'set', spec.veth, 'master', NODE.bridge, 'up'])
  await ipIn(spec, ['link', 'set', 'lo', 'up'])
  await ipIn(spec, ['addr', 'add', `${spec.address}/24`, 'dev', 'eth0'])
  await ipIn(spec, ['link', 'set', 'eth0', 'up'])
  await ipIn(spec, ['route', 'add', 'default', 'via', NODE.gateway])
  await run('ip', ['netns', 'exec', spec.netns, 'nft', '-f', '-'], nodeGuardRules())
}

/** A node's Pod CIDR and the address that leads to it. */
export interface PodRoute { readonly cidr: string, readonly via: string }

/**
 * Routes to every node's Pod CIDR, on the machine and inside every node but its own (replaced if
 * there): what kindnet does for kind. A lost node's route stays, as a cloud's route table keeps
 * pointing at a terminated instance until someone removes it.
 */
export async function setPodRoutes (nodes: readonly NodeSpec[], routes: readonly PodRoute[]): Promise<void> {
  for (const route of routes) {
    await run('ip', ['route', 'replace', route.cidr, 'via', route.via, 'dev', NODE.bridge])
    for (const spec of nodes.filter(node => node.address !== route.via)) {
      await ipIn(spec, ['route', 'replace', route.cidr, 'via', route.via])
    }
  }
}

/** Silences a node's namespace: every packet in or out of it, its Pods' included, is dropped. */
export async function silenceNode (spec: NodeSpec): Promise<void> {
  await run('ip', ['netns', 'exec', spec.netns, 'nft', '-f', '-'], lostNodeRules())
}

/** Deletes a node's namespace and its link (the veth's other end goes with it); harmless when gone. */
export async function removeNodeNetwork (spec: NodeSpec): Promise<void> {
  await run('ip', ['link', 'del', spec.veth]).catch(() => '')
  await run('ip', ['netns', 'delete', spec.netns]).catch(() => '')
}
