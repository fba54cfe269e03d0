/**
 * A release's image and chart published to a registry the way the release workflow publishes them
 * to a public one (docs/release.md), for the demo and the node test to install from: lameduck's
 * image pushed as `REGISTRY/lameduck:VERSION` (its manifest's bytes kept, so the registry serves the
 * digest the chart pins), the chart packaged with that image in its values (chart.ts) and pushed
 * with `helm push` to `oci://REGISTRY/charts`. The registry serves HTTPS; helm trusts its CA
 * through SSL_CERT_FILE, as crane does (control-plane/images/push.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLameduckImage } from '../control-plane/images/lameduck-image.js'
import { pushImage, type RegistryEndpoint } from '../control-plane/images/push.js'
import { runHelm } from '../control-plane/helm.js'
import { repoRoot } from '../control-plane/paths.js'
import { packageChart } from './chart.js'
import { layoutDigest } from './image.js'

/** What was published: the chart's `oci://` reference and version, and the image the chart pins. */
export interface Published { readonly chart: string, readonly version: string, readonly image: string }

/** Publishes lameduck's image and chart of this checkout to `registry`, whose certificate `registry.ca` signed. */
export async function publishToRegistry (registry: Required<RegistryEndpoint>, log: (line: string) => void):
Promise<Published> {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  const layout = await ensureLameduckImage(log)
  const repository = `${registry.address}/lameduck`
  await pushImage(layout, `${repository}:${version}`, registry, log)
  const digest = await layoutDigest(layout)
  const work = await mkdtemp(join(tmpdir(), 'lameduck-publish-'))
  try {
    const chartPackage = await packageChart(work, version, { repository, digest })
    const args = ['push', chartPackage, `oci://${registry.address}/charts`]
    const { code, stderr } = await runHelm(undefined, args, {}, { SSL_CERT_FILE: registry.ca })
    if (code !== 0) throw new Error(`helm ${args.join(' ')}: ${stderr.trim()}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return { chart: `oci://${registry.address}/charts/lameduck`, version, image: `${repository}@${digest}` }
}
