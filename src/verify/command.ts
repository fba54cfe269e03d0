/**
 * `lameduck verify --namespace NS`: whether Pods created in NS now would be mutated, and what they
 * would get, from a server-side dry run of a Pod there (nothing is created). The chart's `helm
 * test` runs it inside the cluster, with lameduck's own image. Exit 0 when the Pod comes back with
 * the hook, the grace period and the marker; 1 when not, with the likeliest reasons; 2 for a bad flag.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, flagTable, parseFlags } from '../common/flags.js'
import { durationFlag } from '../options/read.js'
import type { Io } from '../common/io.js'
import type { KubeClient } from '../kube/client.js'
import { connectKube } from '../kube/connect.js'
import { explain, statusOf } from '../kube/errors.js'
import { describeMutated, mutationOf, probePod, reasons, type Clues, type DryRunPod } from './verdict.js'

export const VERIFY_HELP = `Usage: lameduck verify --namespace NS [--wait DURATION] [--kubeconfig FILE] [--context NAME]

Says whether Pods created in namespace NS now would be mutated by lameduck, and what they would
get: it creates a Pod there with a server-side dry run (nothing is stored), and reads the preStop
hook, the grace period and the lameduck.dev/injected marker of what comes back. Exit code 0 when the
Pod is mutated, 1 when not (with the likeliest reasons), 2 for a bad flag.

  --namespace NS        the namespace to check (an opted-in one: label lameduck.dev/inject=enabled)
  --wait DURATION       keep trying this long until the Pod comes back mutated, e.g. 60s right
                        after an install (default 0: one try)
  --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod's
                        service account)
  --context NAME        a context of the kubeconfig other than its current one`

const FLAGS = flagTable(['namespace', 'wait', 'kubeconfig', 'context'])
/** lameduck's MutatingWebhookConfiguration, as the chart and manifests/ name it. */
const WEBHOOK = 'lameduck'
const RETRY_MS = 2000

/** One dry run: the mutation, or why there is none. */
async function dryRun (kube: KubeClient, namespace: string): Promise<{ pod: DryRunPod } | { refused: string }> {
  try {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?dryRun=All`
    return { pod: await kube.request<DryRunPod>('POST', path, probePod()) }
  } catch (err) {
    return { refused: explain(err, `a dry-run Pod in namespace ${namespace}`, kube.server).message }
  }
}

/** What can be read about why (each read may be forbidden: then it is left out). */
async function clues (kube: KubeClient, namespace: string): Promise<Clues> {
  const read = async <T>(path: string): Promise<T | 'absent' | undefined> => {
    try {
      return await kube.request<T>('GET', path)
    } catch (err) {
      return statusOf(err) === 404 ? 'absent' : undefined
    }
  }
  type Namespace = { metadata?: { labels?: Record<string, string> } }
  type Configuration = { webhooks?: Array<{ clientConfig?: { caBundle?: string } }> }
  const ns = await read<Namespace>(`/api/v1/namespaces/${encodeURIComponent(namespace)}`)
  const configurations = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'
  const config = await read<Configuration>(`${configurations}/${WEBHOOK}`)
  const labels = ns === undefined || ns === 'absent' ? ns : ns.metadata?.labels ?? {}
  const bundled = (c: Configuration): boolean =>
    c.webhooks?.every(hook => (hook.clientConfig?.caBundle ?? '') !== '') === true
  const webhook = config === undefined || config === 'absent' ? config : bundled(config) ? 'present' : 'no caBundle'
  return { ...labels === undefined ? {} : { labels }, ...webhook === undefined ? {} : { webhook } }
}

/** Runs `lameduck verify`; resolves with the exit code. */
export async function runVerifyCommand (argv: readonly string[], io: Io, connect = connectKube): Promise<number> {
  const flags = parseFlags(argv, FLAGS) as Partial<Record<keyof typeof FLAGS, string>>
  if (flags.namespace === undefined) throw new ConfigError('--namespace is required')
  const waitMs = durationFlag('wait', flags.wait, 0) * 1000
  const kube = await connect({ kubeconfig: flags.kubeconfig, context: flags.context })
  try {
    const deadline = Date.now() + waitMs
    for (;;) {
      const result = await dryRun(kube, flags.namespace)
      const mutated = 'pod' in result ? mutationOf(result.pod) : undefined
      if (mutated !== undefined) {
        io.stdout(`${describeMutated(flags.namespace, mutated).join('\n')}\n`)
        return 0
      }
      if (Date.now() + RETRY_MS > deadline) {
        const refused = 'refused' in result ? result.refused : undefined
        const lines = reasons(flags.namespace, await clues(kube, flags.namespace), WEBHOOK, refused)
        const listed = lines.map(line => `  ${line}\n`).join('')
        io.stdout(`Pods created in namespace ${flags.namespace} now are NOT mutated by lameduck:\n${listed}`)
        return 1
      }
      await sleep(RETRY_MS)
    }
  } finally {
    await kube.close()
  }
}
