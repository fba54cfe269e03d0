/**
 * The CEL twin of what admission/decide.ts does between resolving the settings and mutating: a bare
 * Pod's own grace period (admission/own-grace.ts) and Windows Pods (admission/windows.ts). Makes
 * `sleep` and `handler`, the values the hooks, grace period and marker use, of `sleepResolved` and
 * `handlerResolved`.
 *
 * What CEL cannot read exactly: whether a grace period of 30 (the default) was written in the
 * manifest. The webhook parses kubectl's last-applied JSON and reads server-side apply's
 * managedFields; CEL in Kubernetes has no JSON parser, so the policy only sees that the last-applied
 * text mentions the field, or that the Pod was applied server-side. When that matters (sleep + budget
 * over 30), the policy leaves the Pod unchanged rather than guess (docs/policy.md).
 */
import { DEFAULT_GRACE } from '../admission/policy.js'
import { LAST_APPLIED_ANNOTATION } from '../admission/own-grace.js'
import { HANDLER_ANNOTATION } from '../admission/keys.js'
import { formatDuration, min, str, text } from './cel.js'
import { v, type Validation, type Variable } from './settings.js'

/**
 * The last-applied text may set the grace period: it names the field, or escapes a letter (JSON
 * allows `\u0074erminationGrace…`; kubectl never writes that, but the webhook would read it).
 */
const MAY_NAME_GRACE = 'terminationGracePeriodSeconds|\\\\u00[4-7][0-9A-Fa-f]'

/** The variables after settingsVariables: own grace period, Windows, and the final `sleep` and `handler`. */
export function fitVariables (): Variable[] {
  const lastApplied = `object.metadata.?annotations[?${str(LAST_APPLIED_ANNOTATION)}].orValue('')`
  const applied = "object.metadata.?managedFields.orValue([]).exists(e, e.?operation.orValue('') == 'Apply')"
  const overGrace = (grace: string): string => `${v('sleepResolved')} + ${v('budget')} > ${grace}`
  return [
    // The adaptive pause needs the webhook (its program's image, the Pod's ports and probes): left alone here.
    { name: 'adaptiveLeft', expression: `${v('handlerResolved')} == 'adaptive'` },
    { name: 'bare', expression: '!object.metadata.?ownerReferences.orValue([]).exists(o, o.?controller.orValue(false) == true)' },
    { name: 'graceGiven', expression: `object.spec.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE})` },
    // The API server has defaulted the grace period: any other value is the manifest's own.
    { name: 'graceOwn', expression: `${v('bare')} && ${v('graceGiven')} != ${DEFAULT_GRACE}` },
    { name: 'graceTooShort', expression: `${v('graceOwn')} && ${v('graceGiven')} < 2` },
    { name: 'fitted', expression: `${v('graceOwn')} && ${v('graceGiven')} >= 2 && (${overGrace(v('graceGiven'))} || ${v('sleepResolved')} >= ${v('graceGiven')})` },
    // 30 may be the manifest's own too; only when fitting would change the Pod does it matter.
    { name: 'undecided', expression: `${v('bare')} && ${v('graceGiven')} == ${DEFAULT_GRACE} && (${overGrace(String(DEFAULT_GRACE))} || ${v('sleepResolved')} >= ${DEFAULT_GRACE}) && (${lastApplied}.matches(${str(MAY_NAME_GRACE)}) || ${applied})` },
    { name: 'skip', expression: `${v('adaptiveLeft')} || ${v('graceTooShort')} || ${v('undecided')}` },
    { name: 'sleep', expression: `${v('fitted')} ? ${min(v('sleepResolved'), `(${v('graceGiven')} - 1)`)} : ${v('sleepResolved')}` },
    // A 1.36+ cluster always has the native sleep, so a Windows Pod gets it instead of exec.
    { name: 'windowsExec', expression: `object.spec.?os.?name.orValue('') == 'windows' && ${v('handlerResolved')} == 'exec'` },
    { name: 'handler', expression: `${v('windowsExec')} ? 'sleep' : ${v('handlerResolved')}` }
  ]
}

/**
 * For the warnings policy, which sees the mutated Pod: a bare Pod's grace period raised from 30 to
 * --max-grace, the sleep as it was, looks like one its manifest set. When lameduck's hook is there,
 * both read as capped, which is true of either; the own-grace warning is told otherwise.
 */
export const fittedTold = (maxGrace: number): Variable => ({
  name: 'fittedTold',
  expression: `${v('fitted')} && !(${v('graceGiven')} == ${maxGrace} && ${v('sleep')} == ${v('sleepResolved')} && size(${v('hookedNames')}) > 0)`
})

/**
 * The webhook's warnings for what fitVariables decides (admission/own-grace.ts, admission/windows.ts),
 * and the policy's own for `undecided`.
 */
export function fitValidations (): Validation[] {
  const grace = `string(${v('graceGiven')})`
  const why = text`terminationGracePeriodSeconds ${grace} is set by this Pod's own manifest and no controller owns the Pod, so it is kept (a re-apply must find it unchanged)`
  const what = `(${v('sleep')} < ${v('sleepResolved')} ? ${text`preStop sleep shortened from ${formatDuration(v('sleepResolved'))} to ${formatDuration(v('sleep'))}`} : ${text`preStop sleep ${formatDuration(v('sleep'))}`})`
  const sleepAndBudget = text`preStop sleep ${formatDuration(v('sleepResolved'))} + shutdown budget ${formatDuration(v('budget'))}`
  const left = formatDuration(`(${v('graceGiven')} - ${v('sleep')})`)
  return [
    {
      expression: `!${v('adaptiveLeft')}`,
      messageExpression: str(`${HANDLER_ANNOTATION} adaptive needs lameduck's webhook (lameduck serve), ` +
        'which brings the pause\'s program; this policy leaves the Pod unchanged')
    },
    {
      expression: `${v('adaptiveLeft')} || !${v('graceTooShort')}`,
      messageExpression: text`${why}; no preStop pause fits under it: Pod left unchanged`
    },
    {
      expression: `${v('adaptiveLeft')} || !${v('fittedTold')}`,
      messageExpression: text`${why}; ${what}, leaving ${left} of the ${formatDuration(v('budget'))} shutdown budget`
    },
    {
      expression: `${v('adaptiveLeft')} || !${v('undecided')}`,
      messageExpression: text`${sleepAndBudget} does not fit under terminationGracePeriodSeconds ${grace}, which this Pod's own manifest may set (its ${str(LAST_APPLIED_ANNOTATION)} or server-side apply); the policy cannot read which, so the Pod is left unchanged (the webhook can)`
    },
    {
      expression: `!(${v('windowsExec')} && !${v('skip')})`,
      messageExpression: str('Windows Pod: the exec handler runs a sleep command that Windows images do not have; the native sleep is used instead')
    }
  ]
}
