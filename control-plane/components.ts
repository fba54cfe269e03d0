/**
 * Command lines for etcd, kube-apiserver and kube-controller-manager: the smallest set of flags
 * that gives a working control plane on loopback (close to what controller-runtime's envtest uses),
 * as pure functions of the cluster's ports and files.
 */
import { join } from 'node:path'
import type { Credentials } from './credentials.js'
import type { NodeLifecycle } from './node/config.js'

/** The ports a cluster listens on, all on 127.0.0.1 (with a node, the API server's on the Pod bridge's gateway). */
export interface Ports { etcdClient: number, etcdPeer: number, apiserver: number }

/**
 * With a node, what the controller manager adds: endpoints and EndpointSlices, the node's lifecycle and Pod CIDR, Pod
 * GC, PDBs, finished Jobs' TTL.
 */
export const nodeControllers = [
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'node-lifecycle-controller',
  'node-ipam-controller',
  'pod-garbage-collector-controller',
  'ttl-controller',
  'ttl-after-finished-controller',
  'taint-eviction-controller',
  'disruption-controller'
]

/** The controllers the e2e tests rely on, and nothing that needs nodes or a cloud. */
export const controllers = [
  'serviceaccount-controller', // each namespace's `default` ServiceAccount: Pod creates need it
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller', // kube-root-ca.crt, which projected token volumes name
  'namespace-controller', // finishes namespace deletion (else namespaces stay Terminating)
  'garbage-collector-controller', // cascading deletes: Deployment → ReplicaSet → Pod
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'job-controller'
]

/**
 * etcd on loopback with a fresh data dir. fsync is off because the data is thrown away; the short
 * election timeout makes the single member elect itself in ~0.2 s instead of ~1 s (it has no peers
 * to miss heartbeats from).
 */
export function etcdArgs (dir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`
  const peer = `http://127.0.0.1:${ports.etcdPeer}`
  return [
    '--name=lameduck', `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=lameduck=${peer}`,
    '--unsafe-no-fsync', '--heartbeat-interval=20', '--election-timeout=200', '--log-level=warn'
  ]
}

/**
 * kube-apiserver with a self-signed serving certificate written to --cert-dir, RBAC, a static token
 * for the admin, and no endpoint reconciler: the `kubernetes` Service's ClusterIP (10.0.0.1) is
 * never dialled, and nothing listens there. With a node (`nodeAddress`, the Pod bridge's gateway)
 * it listens there instead of on 127.0.0.1 and advertises it, so the `kubernetes` Service leads Pods
 * to it (in-cluster clients), and it reaches kubelets by their InternalIP, never by a host name that
 * would become a DNS query leaving the machine; it calls a webhook's Service at one of its ready
 * endpoints (as managed control planes do, which run no kube-proxy), since the machine runs none.
 * A short node `lifecycle` shortens the tolerations it gives every Pod of the not-ready and
 * unreachable taints (the DefaultTolerationSeconds plugin, 300 s).
 */
export function apiserverArgs (
  dir: string, ports: Ports, creds: Credentials, nodeAddress?: string, lifecycle?: NodeLifecycle
): string[] {
  const address = nodeAddress ?? '127.0.0.1'
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--bind-address=${address}`, `--advertise-address=${address}`, `--secure-port=${ports.apiserver}`,
    `--cert-dir=${join(dir, 'certs')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    ...(nodeAddress === undefined
      ? ['--endpoint-reconciler-type=none']
      : ['--kubelet-preferred-address-types=InternalIP', '--enable-aggregator-routing=true']),
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${creds.serviceAccountPub}`,
    `--service-account-signing-key-file=${creds.serviceAccountKey}`,
    `--token-auth-file=${creds.tokenFile}`,
    '--authorization-mode=RBAC', '--allow-privileged=true', '--profiling=false',
    ...(lifecycle === undefined
      ? []
      : [
          `--default-not-ready-toleration-seconds=${lifecycle.tolerationSeconds}`,
          `--default-unreachable-toleration-seconds=${lifecycle.tolerationSeconds}`
        ])
  ]
}

/** The API server's generated certificate: the serving certificate followed by its CA. */
export function apiserverCertFile (dir: string): string {
  return join(dir, 'certs', 'apiserver.crt')
}

/**
 * kube-controller-manager talking to the API server as admin; --secure-port=0 serves nothing (no
 * port clashes). With nodes, their controllers too, and Pod CIDRs from `clusterCidr`; a short node
 * `lifecycle` marks a node whose Lease is not renewed unready after `graceSeconds` (default 50 s),
 * checked every second (default 5 s).
 */
export function controllerManagerArgs (
  dir: string, kubeconfigPath: string, creds: Credentials, node?: { clusterCidr: string, lifecycle?: NodeLifecycle }
): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--secure-port=0',
    `--service-account-private-key-file=${creds.serviceAccountKey}`,
    `--root-ca-file=${apiserverCertFile(dir)}`,
    '--use-service-account-credentials=false',
    `--controllers=${[...controllers, ...(node === undefined ? [] : nodeControllers)].join(',')}`,
    ...(node === undefined
      ? []
      : [
          '--allocate-node-cidrs', `--cluster-cidr=${node.clusterCidr}`, '--node-cidr-mask-size=24',
          '--service-cluster-ip-range=10.0.0.0/24'
        ]),
    ...(node?.lifecycle === undefined
      ? []
      : [`--node-monitor-grace-period=${node.lifecycle.graceSeconds}s`, '--node-monitor-period=1s'])
  ]
}
