/**
 * `lameduck serve`'s options, in one table: the parser, `--help` and the flag table of
 * docs/configuration.md all come from it. The policy's own (options/policy.ts) are shared with
 * `preview` and `policy`.
 */
import { OWN_NAMESPACE } from '../admission/keys.js'
import {
  DEFAULT_BUDGET_OPTION, DEFAULT_HANDLER_OPTION, DEFAULT_SLEEP_OPTION, EXCLUDE_OPTION, MAX_GRACE_OPTION,
  MAX_SLEEP_OPTION, PAUSE_IMAGE_OPTION
} from '../options/policy.js'
import { optionHelp, type OptionSpec } from '../options/read.js'

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'host', key: 'host', kind: 'string', default: '0.0.0.0', help: 'address to listen on (0.0.0.0: reachable through the Pod IP)' },
  { name: 'port', key: 'port', kind: 'port', default: '8443', help: 'HTTPS port for /mutate, /healthz and /readyz' },
  { name: 'metrics-port', key: 'metricsPort', kind: 'port', default: '9090', help: 'plain-HTTP port for /metrics' },
  { name: 'tls-cert', key: 'tlsCert', kind: 'string', help: 'serving certificate (PEM); reloaded when it changes' },
  { name: 'tls-key', key: 'tlsKey', kind: 'string', help: 'its private key (PEM)' },
  {
    name: 'tls-secret',
    key: 'tlsSecret',
    kind: 'string',
    help: 'serve the key pair of this Secret (in --namespace), read through the API server and followed by a watch; ready once the caBundle of --webhook-configuration trusts it'
  },
  { name: 'namespace', key: 'namespace', kind: 'string', default: OWN_NAMESPACE,
    help: 'the namespace lameduck runs in: its Secrets and renewal Lease' },
  {
    name: 'webhook-configuration',
    key: 'webhookConfiguration',
    kind: 'string',
    default: 'lameduck',
    help: 'lameduck\'s MutatingWebhookConfiguration: whose caBundle the renewal sets and --tls-secret checks'
  },
  { name: 'self-signed', key: 'selfSigned', kind: 'boolean', default: 'false', help: 'generate an in-memory certificate for localhost (local use)' },
  { name: 'namespaces-file', key: 'namespacesFile', kind: 'string', help: 'serve Namespaces from a YAML/JSON file instead of a cluster' },
  { name: 'kubeconfig', key: 'kubeconfig', kind: 'string', help: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod\'s service account)' },
  { name: 'context', key: 'context', kind: 'string', help: 'a context of the kubeconfig other than its current one' },
  DEFAULT_SLEEP_OPTION,
  DEFAULT_BUDGET_OPTION,
  MAX_SLEEP_OPTION,
  MAX_GRACE_OPTION,
  DEFAULT_HANDLER_OPTION,
  PAUSE_IMAGE_OPTION,
  { name: 'pause-delivery', key: 'pauseDelivery', kind: 'delivery', default: 'auto', help: 'how the adaptive pause\'s program reaches a Pod: init-container, image-volume (Kubernetes 1.35+ and a runtime that has them), or auto' },
  EXCLUDE_OPTION,
  { name: 'no-advice', key: 'noAdvice', kind: 'boolean', default: 'false', help: 'no advice warnings on workloads (readiness probes, rollout strategy, grace period, mesh proxies, replicas and their spread over nodes)' },
  { name: 'drain-delay', key: 'drainDelay', kind: 'duration', default: '5s', help: 'on SIGTERM, keep answering this long after /readyz fails' },
  { name: 'headers-timeout', key: 'headersTimeout', kind: 'duration', default: '100s', help: 'a request\'s headers must arrive within this (408 and close after); over the API server\'s 90 s idle timeout' },
  { name: 'request-timeout', key: 'requestTimeout', kind: 'duration', default: '110s', help: 'a whole request, body included, must arrive within this: 408 and close after' },
  { name: 'max-connections', key: 'maxConnections', kind: 'count', default: '1000', help: 'open connections at most; more are closed at once, before their TLS handshake, so that stalled clients cannot take the memory limit' },
  { name: 'body-limit', key: 'bodyLimit', kind: 'size', default: '4MiB', help: 'largest AdmissionReview accepted (413 above)' },
  { name: 'renew-certs', key: 'renewCerts', kind: 'boolean', default: 'false', help: 'renew the key pair in the cluster as lameduck certs --apply does (Secrets, caBundle), one replica at a time under a Lease' },
  { name: 'renew-validity', key: 'renewValidity', kind: 'duration', default: '8760h', help: 'validity of a serving certificate the renewal makes' },
  { name: 'renew-ca-validity', key: 'renewCaValidity', kind: 'duration', default: '87600h', help: 'validity of a CA the renewal makes' },
  { name: 'renew-overlap', key: 'renewOverlap', kind: 'duration', default: '10m', help: 'how long the old CA stays trusted after a rotation; longer than a Secret volume takes to update' },
  { name: 'cert-expiry-warning', key: 'certExpiryWarning', kind: 'duration', default: '336h', help: 'log a warning while the served certificate or its CA expires sooner than this' },
  { name: 'log-level', key: 'logLevel', kind: 'level', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' }
]

export const SERVE_HELP = `Usage: lameduck serve [flags]

Runs the webhook: POST /mutate, GET /healthz and GET /readyz over HTTPS; /metrics over plain HTTP.
Every flag can also be set as LAMEDUCK_<NAME> (--max-sleep is LAMEDUCK_MAX_SLEEP); a flag wins.

${optionHelp(SERVE_OPTIONS)}`
