/**
 * `lameduck serve --renew-certs`: the certificate code's renewal run (`lameduck certs --apply` with
 * serve's names: its namespace, Secret and webhook configuration) in a loop in every replica, under
 * the Lease `<namespace>/lameduck-renew`. On an install whose Secrets are empty, the first run makes
 * the CA and the serving pair: the replicas make their own certificates.
 */
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { readCertsOptions, type CertsOptions } from '../certs/flags.js'
import type { KubeClient } from '../kube/client.js'
import { createLeaseLock } from './lease.js'
import { connectLease } from './lease-client.js'
import { clusterApiOver } from '../certs/cluster.js'
import { startRenewer, type RenewalMetrics, type Renewer } from './renewer.js'

/** The Lease the replicas take for a run (the chart's templates/certificates.yaml). */
export const LEASE_NAME = 'lameduck-renew'
/** Longer than any run (a CA rotation waits `--settle`, 5 s): a replica that died holding it frees it after this. */
export const LEASE_SECONDS = 60

/** The serve flags the renewal reads (ServeConfig's; declared here so that renew/ never imports serve/). */
export interface RenewConfig {
  readonly renewCerts: boolean
  readonly kubeconfig: string | undefined
  /** Where the Secrets and the Lease are, and the Service's namespace (its DNS names). */
  readonly namespace: string
  /** The serving Secret, when serve reads it through the API server; else the default, lameduck-tls. */
  readonly tlsSecret: string | undefined
  readonly webhookConfiguration: string
  /** Seconds, as serve's duration flags. */
  readonly renewValidity: number
  readonly renewCaValidity: number
  readonly renewOverlap: number
}

/**
 * The certificate code's options for `config`: its defaults (the manifests' names) with the serve flags' validities and
 * overlap.
 */
export function certsOptionsFor (config: Omit<RenewConfig, 'renewCerts'>): CertsOptions {
  return readCertsOptions([
    ...config.kubeconfig === undefined ? ['--apply'] : ['--kubeconfig', config.kubeconfig],
    '--namespace', config.namespace, '--webhook', config.webhookConfiguration,
    ...config.tlsSecret === undefined ? [] : ['--secret', config.tlsSecret],
    '--validity', `${config.renewValidity}s`, '--ca-validity', `${config.renewCaValidity}s`, '--overlap', `${config.renewOverlap}s`
  ])
}

/**
 * The renewal loop when `--renew-certs` is on (over `kube`, serve's client for `config.kubeconfig`), else a renewer
 * that does nothing.
 */
export function startRenewal (
  config: RenewConfig,
  logger: Logger,
  metrics: RenewalMetrics,
  kube: KubeClient | undefined
): Renewer {
  if (!config.renewCerts) return { wake: () => undefined, close: async () => undefined }
  if (kube === undefined) throw new Error('--renew-certs needs a cluster')
  return startClusterRenewal(config, logger, metrics, kube)
}

/** Starts the renewal loop of this replica (test/e2e/renew.test.ts runs two against a real kube-apiserver). */
export function startClusterRenewal (
  config: RenewConfig,
  logger: Logger,
  metrics: RenewalMetrics,
  kube: KubeClient
): Renewer {
  const options = certsOptionsFor(config)
  const now = (): Date => new Date()
  // The Pod's name in a cluster; host and PID tell apart two replicas on one machine.
  const lock = createLeaseLock(connectLease(kube, options.namespace, LEASE_NAME), {
    identity: `${hostname()}_${process.pid}`,
    durationSeconds: LEASE_SECONDS,
    now
  })
  const cluster = clusterApiOver(kube)
  const log = logger.child({ component: 'renew' })
  log.info(
    {
      secret: `${options.namespace}/${options.secret}`,
      webhook: options.webhook,
      lease: `${options.namespace}/${LEASE_NAME}`
    },
    'certificate renewal in the cluster: on'
  )
  return startRenewer({
    lock,
    renew: async say => {
      // The certificate code (selfsigned and its X.509 library) is loaded for a run, not at start.
      const { renewOnce } = await import('../certs/run.js')
      return await renewOnce(options, { connect: async () => cluster, now, sleep, say })
    },
    now,
    logger: log,
    metrics
  })
}
