import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { readReleaseCommand } from '../../../release/flags.js'

t.test('--out is required; --no-sbom leaves the SBOM out; --help', async t => {
  t.same(readReleaseCommand(['--out', 'dist']), { help: false, options: { out: 'dist', sbom: true } })
  t.same(readReleaseCommand(['--out', 'dist', '--no-sbom']), { help: false, options: { out: 'dist', sbom: false } })
  t.same(readReleaseCommand(['--help']), { help: true })
})

/** The ConfigError `argv` gives. */
function configError (argv: string[]): unknown {
  try {
    readReleaseCommand(argv)
  } catch (err) {
    return err
  }
  return undefined
}

t.test('a bad flag is one ConfigError line naming it', async t => {
  const cases = [
    [[], /^--out DIR is required$/],
    [['--out', ' '], /^--out must not be empty$/],
    [['--out', 'x', '--sbom', 'no'], /^Unknown option '--sbom'[^\n]*$/]
  ] as const
  for (const [argv, message] of cases) {
    const err = configError([...argv])
    t.ok(err instanceof ConfigError, `${argv.join(' ')}: a ConfigError`)
    t.match((err as Error).message, message)
  }
})
