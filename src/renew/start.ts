/**
 * `lameduck serve --renew-certs`: the certs-script's renewal run (`lameduck certs --apply` with the
 * manifests' names) in a loop in every replica, under the Lease `lameduck-system/lameduck-renew`.
 */
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { readCertsOptions, type CertsOptions } from '../../certs-script/flags.js'
import { connectCluster } from '../../certs-script/cluster.js'
import { loadKubeConfig } from '../common/cluster.js'
import { renewOnce } from '../../certs-script/run.js'
import { createLeaseLock } from './lease.js'
import { connectLease } from './lease-client.js'
import { startRenewer, type RenewalMetrics, type Renewer } from './renewer.js'

/** The Lease the replicas take for a run (manifests/base/renew.yaml). */
export const LEASE_NAME = 'lameduck-renew'
/** Longer than any run (a CA rotation waits `--settle`, 5 s): a replica that died holding it frees it after this. */
export const LEASE_SECONDS = 60

/** The serve flags the renewal reads (ServeConfig's; declared here so that renew/ never imports serve/). */
export interface RenewConfig {
  readonly renewCerts: boolean
  readonly kubeconfig: string | undefined
  /** Seconds, as serve's duration flags. */
  readonly renewValidity: number
  readonly renewCaValidity: number
  readonly renewOverlap: number
}

/** The certs-script's options for `config`: its defaults (the manifests' names) with the serve flags' validities and overlap. */
export function certsOptionsFor (config: Omit<RenewConfig, 'renewCerts'>): CertsOptions {
  return readCertsOptions([
    ...config.kubeconfig === undefined ? ['--apply'] : ['--kubeconfig', config.kubeconfig],
    '--validity', `${config.renewValidity}s`, '--ca-validity', `${config.renewCaValidity}s`, '--overlap', `${config.renewOverlap}s`
  ])
}

/** The renewal loop when `--renew-certs` is on, else a renewer that does nothing. */
export function startRenewal (config: RenewConfig, logger: Logger, metrics: RenewalMetrics): Renewer {
  return config.renewCerts ? startClusterRenewal(config, logger, metrics) : { close: async () => undefined }
}

/** Starts the renewal loop of this replica (test/e2e/renew.test.ts runs two against a real kube-apiserver). */
export function startClusterRenewal (config: RenewConfig, logger: Logger, metrics: RenewalMetrics): Renewer {
  const options = certsOptionsFor(config)
  const kubeConfig = loadKubeConfig(options.cluster!)
  const now = (): Date => new Date()
  // The Pod's name in a cluster; host and PID tell apart two replicas on one machine.
  const lock = createLeaseLock(connectLease(kubeConfig, options.namespace, LEASE_NAME), { identity: `${hostname()}_${process.pid}`, durationSeconds: LEASE_SECONDS, now })
  const log = logger.child({ component: 'renew' })
  log.info({ secret: `${options.namespace}/${options.secret}`, webhook: options.webhook, lease: `${options.namespace}/${LEASE_NAME}` }, 'certificate renewal in the cluster: on')
  return startRenewer({
    lock,
    renew: async say => await renewOnce(options, { connect: connectCluster, now, sleep, say }),
    now,
    logger: log,
    metrics
  })
}
