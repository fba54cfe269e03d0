/**
 * `npm run release -- --out DIR`: a release of this commit that a user can download and verify
 * (flags.ts has the help). It refuses, before writing anything, a working tree with uncommitted
 * changes and versions that disagree; then writes into a temporary folder beside DIR and renames
 * it, so that DIR holds a whole release or nothing. A bad flag is one line and exit 2; a refusal
 * or a failure one message and exit 1.
 */
import { mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { ConfigError } from '../src/common/flags.js'
import { ensureBinaries } from '../control-plane/build.js'
import { ensureLameduckImage, pauseLayout } from '../control-plane/images/lameduck-image.js'
import { packageChart, renderInstall } from './chart.js'
import { CHECKSUMS, writeChecksums } from './checksums.js'
import { readReleaseCommand, RELEASE_HELP, type ReleaseOptions } from './flags.js'
import { writeImageArchive } from './image.js'
import { writeSbom } from './sbom.js'
import { chartImageRepository, headCommit, readVersions, uncommittedChanges } from './sources.js'
import { versionMismatch } from './versions.js'

/** A reason to refuse the release before anything is written. */
class Refusal extends Error {}

const log = (line: string): void => { process.stdout.write(`${line}\n`) }

/** Resolves with the release's version once the checkout and DIR may be released into. */
async function check (out: string): Promise<string> {
  const changes = await uncommittedChanges()
  if (changes.length > 0) {
    const more = changes.length > 3 ? `, and ${changes.length - 3} more` : ''
    const shown = changes.slice(0, 3).map(line => line.trim()).join(', ') + more
    throw new Refusal(`the working tree has uncommitted changes (${shown}): commit them, or release from a clean clone`)
  }
  const { packageVersion, sources } = await readVersions()
  const mismatch = versionMismatch(packageVersion, sources)
  if (mismatch !== undefined) throw new Refusal(mismatch)
  const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  if (entries.length > 0) throw new Refusal(`--out ${out}: the folder exists and is not empty`)
  return packageVersion
}

/** Writes every file of the release into `dir`. */
async function writeRelease (dir: string, version: string, options: ReleaseOptions): Promise<void> {
  const image = join(dir, `lameduck-${version}.oci.tar`)
  log(`[release] lameduck's image from the Dockerfile (built once per change of its context), as ${basename(image)}`)
  const digest = await writeImageArchive(image, await ensureLameduckImage(log), version)
  log(`[release]   its manifest: ${digest}`)
  const pause = join(dir, `lameduck-pause-${version}.oci.tar`)
  const pauseDigest = await writeImageArchive(pause, pauseLayout, version)
  log(`[release] the Dockerfile's pause stage (lameduck-pause alone), as ${basename(pause)}: ${pauseDigest}`)
  if (options.sbom) {
    const sbom = join(dir, `lameduck-${version}.spdx.json`)
    log(`[release] its SBOM by syft: ${basename(sbom)}`)
    await writeSbom(image, sbom, log)
  } else {
    log('[release] no SBOM (--no-sbom)')
  }
  const repository = options.image ?? await chartImageRepository()
  await ensureBinaries({ log, only: ['helm'] })
  log(`[release] the chart: helm package charts/lameduck, its image ${repository}:${version}@${digest}`)
  const chart = await packageChart(dir, version, { repository, digest })
  log(`[release]   ${basename(chart)}`)
  log(`[release] install.yaml: the chart's objects, the image pinned as ${repository}@${digest}`)
  await renderInstall(join(dir, 'install.yaml'), chart, version)
  await writeChecksums(dir)
  log(`[release] ${CHECKSUMS} over ${(await readdir(dir)).length - 1} files`)
}

/** The release, from the checks to the renamed folder. */
async function release (options: ReleaseOptions): Promise<void> {
  const out = resolve(options.out)
  const version = await check(out)
  log(`[release] lameduck ${version}, commit ${await headCommit()}, into ${out}`)
  await rmdir(out).catch(() => undefined)
  await stat(dirname(out))
  const work = await mkdtemp(join(dirname(out), `.${basename(out)}.partial-`))
  try {
    await writeRelease(work, version, options)
    await rename(work, out)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  log(`[release] done: ${out} (check it with: cd ${out} && sha256sum -c ${CHECKSUMS})`)
}

let command
try {
  command = readReleaseCommand(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`release: ${err.message} (see npm run release -- --help)\n`)
  process.exit(2)
}
if (command.help) {
  process.stdout.write(`${RELEASE_HELP}\n`)
} else {
  try {
    await release(command.options)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(`release: ${err instanceof Refusal ? 'refused' : 'failed'}: ${message}\n`)
    process.exitCode = 1
  }
}
