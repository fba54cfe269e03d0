import t from 'tap'
import { ConfigError } from '../../../src/common/flags.js'
import { readReleaseCommand } from '../../../release/flags.js'

t.test('--out is required; --no-sbom leaves the SBOM out; --image names the repository; --help', async t => {
  t.same(readReleaseCommand(['--out', 'dist']), { help: false, options: { out: 'dist', sbom: true, image: undefined } })
  const noSbom = { help: false, options: { out: 'dist', sbom: false, image: undefined } }
  t.same(readReleaseCommand(['--out', 'dist', '--no-sbom']), noSbom)
  const published = readReleaseCommand(['--out', 'dist', '--image', 'ghcr.io/some-owner/lameduck'])
  t.same(published, { help: false, options: { out: 'dist', sbom: true, image: 'ghcr.io/some-owner/lameduck' } })
  t.same(readReleaseCommand(['--out', 'd', '--image', '10.88.0.1:5000/lameduck']).help, false)
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
    [['--out', 'x', '--sbom', 'no'], /^Unknown option '--sbom'[^\n]*$/],
    [['--out', 'x', '--image', 'ghcr.io/o/lameduck:0.1.0'], /^--image: "ghcr\.io\/o\/lameduck:0\.1\.0" is not/],
    [['--out', 'x', '--image', 'Ghcr.io/O'], /^--image: "Ghcr\.io\/O" is not/]
  ] as const
  for (const [argv, message] of cases) {
    const err = configError([...argv])
    t.ok(err instanceof ConfigError, `${argv.join(' ')}: a ConfigError`)
    t.match((err as Error).message, message)
  }
})
