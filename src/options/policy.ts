/**
 * The policy's options, which `serve`, `preview` and `policy` share: the defaults an annotation
 * overrides and the limits none can pass (docs/configuration.md, Flags), their consistency, and
 * the plain values the admission core is given.
 */
import { OWN_NAMESPACE } from '../admission/keys.js'
import { DEFAULT_PAUSE_IMAGE } from '../admission/adaptive.js'
import type { PolicyLimits } from '../admission/policy.js'
import type { AutoHandler, HandlerSetting, PauseDelivery } from '../admission/types.js'
import { ConfigError } from '../common/flags.js'
import type { OptionSpec } from './read.js'

/** The policy options' values, durations in seconds (as resolveOptions reads POLICY_OPTIONS). */
export interface PolicyOptions {
  readonly defaultSleep: number
  readonly defaultBudget: number
  readonly maxSleep: number
  readonly maxGrace: number
  readonly excludeNamespaces: ReadonlySet<string>
}

/** `preview`'s and `serve`'s too: the handler no annotation names, and the adaptive pause's image. */
export interface HandlerOptions {
  readonly defaultHandler: HandlerSetting
  readonly pauseImage: string
}

export const DEFAULT_SLEEP_OPTION: OptionSpec = {
  name: 'default-sleep', key: 'defaultSleep', kind: 'duration', default: '15s',
  help: 'preStop sleep when no annotation sets one'
}
export const DEFAULT_BUDGET_OPTION: OptionSpec = {
  name: 'default-shutdown-budget', key: 'defaultBudget', kind: 'duration', default: '15s',
  help: 'time the app needs after SIGTERM when no annotation sets it'
}
export const MAX_SLEEP_OPTION: OptionSpec = {
  name: 'max-sleep', key: 'maxSleep', kind: 'duration', default: '300s', help: 'no annotation can make the sleep longer'
}
export const MAX_GRACE_OPTION: OptionSpec = {
  name: 'max-grace', key: 'maxGrace', kind: 'duration', default: '600s',
  help: 'no annotation can make the grace period longer'
}
export const EXCLUDE_OPTION: OptionSpec = {
  name: 'exclude-namespaces', key: 'excludeNamespaces', kind: 'list', default: `${OWN_NAMESPACE},kube-system`,
  help: 'namespaces never mutated (comma-separated)'
}

export const DEFAULT_HANDLER_OPTION: OptionSpec = {
  name: 'default-handler', key: 'defaultHandler', kind: 'handler', default: 'auto',
  help: 'preStop handler when no annotation names one: auto, sleep, exec or adaptive'
}
export const PAUSE_IMAGE_OPTION: OptionSpec = {
  name: 'pause-image', key: 'pauseImage', kind: 'string', default: DEFAULT_PAUSE_IMAGE,
  help: 'image holding /usr/local/bin/lameduck-pause, the adaptive handler\'s program: lameduck\'s own, ' +
    'or the Dockerfile\'s small `pause` stage'
}

/** The options `preview` and `policy` share with `serve`, in serve's order. */
export const POLICY_OPTIONS: readonly OptionSpec[] = [
  DEFAULT_SLEEP_OPTION, DEFAULT_BUDGET_OPTION, MAX_SLEEP_OPTION, MAX_GRACE_OPTION, EXCLUDE_OPTION
]

/** `preview`'s too, besides those (the policy leaves the adaptive handler to the webhook). */
export const PREVIEW_OPTIONS: readonly OptionSpec[] = [...POLICY_OPTIONS, DEFAULT_HANDLER_OPTION, PAUSE_IMAGE_OPTION]

function check (condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(message)
}

/** The limits' own consistency, shared by `serve`, `preview` and `policy`. */
export function checkLimits (config: Pick<PolicyOptions, 'defaultSleep' | 'maxSleep' | 'maxGrace'>): void {
  check(config.defaultSleep >= 1, '--default-sleep must be at least 1s')
  check(config.maxSleep >= 1, '--max-sleep must be at least 1s')
  check(config.maxGrace > config.maxSleep,
    `--max-grace (${config.maxGrace}s) must be longer than --max-sleep (${config.maxSleep}s): ` +
      'the grace period must outlast the pause')
  check(config.defaultSleep <= config.maxSleep,
    `--default-sleep (${config.defaultSleep}s) must not exceed --max-sleep (${config.maxSleep}s)`)
}

/** What the cluster decides for the `auto` settings: the handler, and how the pause's program is brought. */
export interface AutoChoice { readonly handler: AutoHandler, readonly delivery: PauseDelivery }

/** What policyLimits reads: the policy's options but the namespaces, and (serve's) a forced delivery. */
export type LimitsOptions = Omit<PolicyOptions, 'excludeNamespaces'> & HandlerOptions
  & { readonly pauseDelivery?: PauseDelivery | 'auto' }

/** The policy's share of the options, with what `auto` means: plain values, frozen. */
export function policyLimits (config: LimitsOptions, auto: AutoChoice): PolicyLimits {
  const forced = config.pauseDelivery
  const delivery = forced === undefined || forced === 'auto' ? auto.delivery : forced
  return Object.freeze({
    defaultSleep: config.defaultSleep,
    defaultBudget: config.defaultBudget,
    maxSleep: config.maxSleep,
    maxGrace: config.maxGrace,
    autoHandler: auto.handler,
    defaultHandler: config.defaultHandler,
    pause: Object.freeze({ image: config.pauseImage, delivery })
  })
}
