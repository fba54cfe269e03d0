import t from 'tap'
import { capWarnings, WARNINGS_BUDGET } from '../../../src/admission/warnings.js'
import { containersNamed, quoteNames } from '../../../src/admission/names.js'
import { respond } from '../../../src/admission/admit.js'
import { mutatePod } from '../../../src/admission/mutate.js'
import { resolveSettings } from '../../../src/admission/policy.js'
import { LIMITS, pod } from '../../helpers/pods.js'

const total = (warnings: readonly string[]): number => warnings.reduce((sum, w) => sum + w.length, 0)

t.test('names: one, two, several, and a long list cut short', async t => {
  t.equal(quoteNames(['web']), '"web"')
  t.equal(quoteNames(['web', 'api']), '"web" and "api"')
  t.equal(quoteNames(['a', 'b', 'c']), '"a", "b" and "c"')
  const many = Array.from({ length: 30 }, (_, i) => `nginx-${i}`)
  t.match(quoteNames(many), /^"nginx-0", "nginx-1", .*, … and \d+ more$/)
  t.ok(quoteNames(many).length < 110, 'short enough for the 256 characters a warning may have')
  t.equal(containersNamed(['web']), 'container "web"')
  t.equal(containersNamed(['web', 'api']), 'containers "web" and "api"')
})

t.test('a Pod with 30 nginx containers and 30 hooks of its own gets one warning for each, not 30', async t => {
  const containers = Array.from({ length: 30 }, (_, i) => ({ name: `nginx-${i}`, image: 'nginx:1.27' }))
  const own = Array.from({ length: 30 }, (_, i) => ({ name: `own-${i}`, lifecycle: { preStop: { exec: { command: ['drain'] } } } }))
  const result = mutatePod(pod([...containers, ...own]), resolveSettings({}, undefined, LIMITS), 600)
  t.equal(result.warnings.length, 2)
  t.match(result.warnings[0], /^containers "own-0", "own-1", .* and \d+ more already have preStop hooks; kept as they are$/)
  t.match(result.warnings[1],
    /^containers "nginx-0", .* and \d+ more run nginx: unless its image's STOPSIGNAL is SIGQUIT, SIGTERM cuts requests in flight/)
  const { warnings } = respond('u', undefined, result.warnings).response
  for (const warning of warnings!) t.ok(warning.length <= 256, 'each under 256 characters, uncut')
  t.notMatch(warnings!.join(''), /…$/m)
})

t.test('the total stays under the budget, with a last line saying how many were left out', async t => {
  const many = Array.from({ length: 40 }, (_, i) => `warning ${i} ${'x'.repeat(140)}`)
  const capped = capWarnings(many, 'p: ')
  t.ok(total(capped) <= WARNINGS_BUDGET, `${total(capped)} characters`)
  t.ok(WARNINGS_BUDGET < 4096, 'under the API server\'s 4 KiB')
  const kept = capped.length - 1
  t.equal(capped.at(-1), `p: … and ${40 - kept} more warnings (lameduck preview prints them all)`)
  t.same(capped.slice(0, -1), many.slice(0, kept), 'the first ones, in order')
  t.same(capWarnings(['a', 'b'], 'p: ', 100), ['a', 'b'], 'everything, when it fits')
  const [a, b, c] = ['a'.repeat(60), 'b'.repeat(20), 'c'.repeat(130)]
  t.same(capWarnings([a, b, c], 'p: ', 200), [a, b, 'p: … and 1 more warning (lameduck preview prints them all)'], 'one more')
  t.same(capWarnings([a, 'b'.repeat(100), c], 'p: ', 200), [a, 'p: … and 2 more warnings (lameduck preview prints them all)'], 'a warning that would leave no room for the closing line')
  t.same(capWarnings([a, 'b'.repeat(140)], 'p: ', 200), [a, 'b'.repeat(140)], 'the last one needs no room for the closing line')
  const answered = respond('u', undefined, many).response.warnings!
  t.ok(total(answered) <= WARNINGS_BUDGET)
  t.match(answered.at(-1), /^lameduck: … and \d+ more warnings/)
})
