/**
 * The nftables rules of the nodes, as text for `nft -f -`: the machine's guard rules, each node's
 * own (in its namespace), and a lost node's silence. Pure: network.ts loads them.
 */
import { NODE } from './config.js'

/** The node ports Pods must never reach. */
const NODE_PORTS = [NODE.kubeletPort, NODE.kubeletHealthzPort, NODE.proxyHealthzPort, NODE.proxyMetricsPort].join(', ')

/**
 * The machine's guard rules, in a table of its own (removed whole on stop): nothing from the bridge
 * is forwarded off it or reaches the machine beyond the gateway address, nothing on the bridge
 * reaches the machine's copies of the node ports, and traffic to a Service or Pod address never
 * leaves through another interface (a ClusterIP with no endpoints would otherwise follow the default
 * route).
 */
export function guardRules (): string {
  const { bridge, gateway, guardTable, serviceCidr, clusterCidr } = NODE
  return `table inet ${guardTable} {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${bridge}" oifname != "${bridge}" drop
    oifname "${bridge}" iifname != "${bridge}" drop
  }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "${bridge}" ip daddr != ${gateway} drop
    iifname "${bridge}" tcp dport { ${NODE_PORTS} } drop
    iifname "${bridge}" meta nfproto ipv6 drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr { ${serviceCidr}, ${clusterCidr} } oifname != { "lo", "${bridge}" } drop
  }
}
`
}

/** A node's guard rules, in its own namespace (gone with it): no Pod, of this node or another, reaches its ports. */
export function nodeGuardRules (): string {
  return `table inet ${NODE.guardTable} {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr ${NODE.clusterCidr} tcp dport { ${NODE_PORTS} } drop
    meta nfproto ipv6 drop
  }
}
`
}

/**
 * A lost node's namespace drops every packet, before anything else sees it: its address and its Pods'
 * go silent, as an instance that was terminated does (no reset, no refusal; callers time out).
 */
export function lostNodeRules (): string {
  return `table inet lameduck_lost {
  chain prerouting {
    type filter hook prerouting priority -500; policy drop;
  }
  chain output {
    type filter hook output priority -500; policy drop;
  }
}
`
}
