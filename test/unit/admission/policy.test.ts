import t from 'tap'
import { computeGrace, explainGrace, parseContainers, resolveSettings } from '../../../src/admission/policy.js'
import { LIMITS } from '../../helpers/pods.js'

t.test('resolves the four annotations, the Pod over the namespace', async t => {
  const cases: Array<{
    name: string
    pod?: Record<string, string>
    ns?: Record<string, string>
    sleep: number
    budget: number
    containers: unknown
    handler: string
    warnings?: RegExp[]
  }> = [
    { name: 'nothing set: server defaults', sleep: 15, budget: 15, containers: '*', handler: 'sleep' },
    {
      name: 'namespace values',
      ns: {
        'lameduck.dev/prestop-sleep': '20s',
        'lameduck.dev/shutdown-budget': '1m',
        'lameduck.dev/containers': 'web, api',
        'lameduck.dev/prestop-handler': 'exec'
      },
      sleep: 20,
      budget: 60,
      containers: ['web', 'api'],
      handler: 'exec'
    },
    {
      name: 'a Pod value wins',
      pod: { 'lameduck.dev/prestop-sleep': '5' },
      ns: { 'lameduck.dev/prestop-sleep': '20s' },
      sleep: 5,
      budget: 15,
      containers: '*',
      handler: 'sleep'
    },
    {
      name: 'a bad Pod value falls back to the namespace',
      pod: { 'lameduck.dev/prestop-sleep': 'soon' },
      ns: { 'lameduck.dev/prestop-sleep': '20s' },
      sleep: 20,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [
        /^Pod annotation lameduck.dev\/prestop-sleep: "soon" is not a duration.*using the namespace value 20s$/
      ]
    },
    {
      name: 'bad everywhere falls back to the default',
      pod: { 'lameduck.dev/shutdown-budget': '-1' },
      ns: { 'lameduck.dev/shutdown-budget': 'x' },
      sleep: 15,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [
        /^Pod annotation .*"-1".*using the default 15s$/,
        /^namespace annotation .*"x".*using the default 15s$/
      ]
    },
    {
      name: 'a zero sleep is refused',
      ns: { 'lameduck.dev/prestop-sleep': '0' },
      sleep: 15,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [/"0" is too short \(at least 1s\); using the default 15s/]
    },
    {
      name: 'a zero budget is fine',
      ns: { 'lameduck.dev/shutdown-budget': '0s' },
      sleep: 15,
      budget: 0,
      containers: '*',
      handler: 'sleep'
    },
    {
      name: 'an unknown handler',
      pod: { 'lameduck.dev/prestop-handler': 'wait' },
      sleep: 15,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [/"wait" is not a handler \(use auto, sleep, exec or adaptive\); using the default auto/]
    },
    {
      name: 'a container list naming nothing',
      ns: { 'lameduck.dev/containers': ' , ' },
      sleep: 15,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [/names no container.*using the default \*/]
    },
    {
      name: 'a good Pod list after a bad namespace one is not blamed',
      pod: { 'lameduck.dev/containers': 'web' },
      ns: { 'lameduck.dev/containers': ',' },
      sleep: 15,
      budget: 15,
      containers: ['web'],
      handler: 'sleep'
    },
    {
      name: 'a bad Pod list falls back to the namespace list',
      pod: { 'lameduck.dev/containers': ',' },
      ns: { 'lameduck.dev/containers': 'web,api' },
      sleep: 15,
      budget: 15,
      containers: ['web', 'api'],
      handler: 'sleep',
      warnings: [/using the namespace value web,api$/]
    },
    {
      name: 'a sleep over the limit is clamped',
      pod: { 'lameduck.dev/prestop-sleep': '10m' },
      sleep: 300,
      budget: 15,
      containers: '*',
      handler: 'sleep',
      warnings: [/preStop sleep 10m is over the server's limit; clamped to 5m \(--max-sleep\)/]
    }
  ]
  for (const c of cases) {
    const settings = resolveSettings(c.pod, c.ns, LIMITS)
    t.same(
      { sleep: settings.sleep, budget: settings.budget, containers: settings.containers, handler: settings.handler },
      { sleep: c.sleep, budget: c.budget, containers: c.containers, handler: c.handler },
      c.name
    )
    t.equal(settings.warnings.length, c.warnings?.length ?? 0, `${c.name}: warning count`)
    for (const [index, pattern] of (c.warnings ?? []).entries()) t.match(settings.warnings[index], pattern, `${c.name}: warning ${index}`)
  }
})

t.test('auto follows the server; an explicit handler does not', async t => {
  const execServer = { ...LIMITS, autoHandler: 'exec' as const }
  t.equal(resolveSettings(undefined, undefined, execServer).handler, 'exec')
  t.equal(resolveSettings({ 'lameduck.dev/prestop-handler': 'auto' }, undefined, execServer).handler, 'exec')
  t.equal(resolveSettings({ 'lameduck.dev/prestop-handler': 'sleep' }, undefined, execServer).handler, 'sleep')
})

t.test('the server\'s default handler (--default-handler) when no annotation sets one', async t => {
  const execByDefault = { ...LIMITS, defaultHandler: 'exec' as const, autoHandler: 'sleep' as const }
  t.equal(resolveSettings(undefined, undefined, execByDefault).handler, 'exec')
  const annotated = resolveSettings(undefined, { 'lameduck.dev/prestop-handler': 'auto' }, execByDefault)
  t.equal(annotated.handler, 'sleep', 'an annotation still wins')
  const bad = resolveSettings({ 'lameduck.dev/prestop-handler': 'nap' }, undefined, execByDefault)
  t.equal(bad.handler, 'exec')
  t.match(bad.warnings, [/"nap" is not a handler .*; using the default exec$/])
})

t.test('container lists: * or names, duplicates dropped', async t => {
  t.equal(parseContainers(' * '), '*')
  t.same(parseContainers('web,api,web'), ['web', 'api'])
  t.type(parseContainers(''), Error)
})

t.test('grace period: max(current, min(maxGrace, sleep + budget)) and above the sleep', async t => {
  const cases: Array<
    [current: number | undefined, sleep: number, budget: number, max: number, want: number, why: string]
  > = [
    [30, 15, 15, 600, 30, 'equal to the default: unchanged'],
    [30, 20, 25, 600, 45, 'raised to sleep + budget'],
    [120, 20, 25, 600, 120, 'a longer grace the owner set is kept'],
    [undefined, 10, 5, 600, 30, 'unset counts as the API server default 30'],
    [30, 300, 600, 600, 600, 'capped by --max-grace'],
    [900, 20, 25, 600, 900, 'a grace above the cap that the owner set is never lowered'],
    [1, 15, 0, 600, 16, 'never equal to the sleep: the API server would reject it'],
    [10, 40, 0, 600, 41, 'a zero budget still leaves a second after the sleep']
  ]
  for (const [current, sleep, budget, max, want, why] of cases) {
    const grace = computeGrace(current, sleep, budget, max)
    t.equal(grace, want, why)
    t.equal(computeGrace(grace, sleep, budget, max), grace, `${why}: applying it again changes nothing`)
  }
})

t.test('grace period explanations', async t => {
  t.same(explainGrace(30, 30, 15, 15, 600), [], 'nothing to explain')
  t.match(explainGrace(30, 45, 20, 25, 600), [/raised from 30 to 45 \(preStop sleep 20s \+ shutdown budget 25s\)/])
  t.match(explainGrace(undefined, 45, 20, 25, 600), [/raised from 30 to 45/])
  const capped = explainGrace(30, 600, 300, 600, 600)
  t.equal(capped.length, 2)
  t.match(capped[0], /capped at 600 \(--max-grace\)/)
  t.same(explainGrace(900, 900, 300, 600, 600), [], 'the owner\'s own longer grace needs no note')
})
