import t from 'tap'
import { readFileSync } from 'node:fs'
import { SERVE_OPTIONS } from '../../../src/serve/options.js'

const readme = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')

t.test('docs/configuration.md\'s flag table lists every serve flag with its default and help', async t => {
  for (const spec of SERVE_OPTIONS) {
    const row = readme.split('\n').find(line => line.startsWith(`| \`--${spec.name}\` |`))
    t.ok(row, `--${spec.name} has a row`)
    t.match(row, spec.default === undefined ? '| — |' : `| \`${spec.default}\` |`, `--${spec.name} default`)
    t.match(row, spec.help, `--${spec.name} help`)
  }
  const rows = readme.split('\n').filter(line => /^\| `--[a-z-]+` \|/.test(line))
  t.equal(rows.length, SERVE_OPTIONS.length, 'and no row for a flag that does not exist')
})
