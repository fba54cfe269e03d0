/**
 * The SBOM of lameduck's image: syft (built from its Go module on first use, control-plane/tools.ts)
 * reads the OCI archive, finds the Debian packages, the npm packages and Node itself, and writes
 * SPDX JSON. Offline: syft's check for a newer version of itself is turned off.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { ensureTool } from '../control-plane/tools.js'

const execFileAsync = promisify(execFile)

/** Writes the SPDX JSON SBOM of the image in the OCI archive `archive` to `file`. */
export async function writeSbom (archive: string, file: string, log: (line: string) => void): Promise<void> {
  const syft = await ensureTool('syft', log)
  try {
    await execFileAsync(syft, ['scan', `oci-archive:${archive}`, '--quiet', '--output', `spdx-json=${file}`], {
      env: { ...process.env, SYFT_CHECK_FOR_APP_UPDATE: 'false' },
      maxBuffer: 64 << 20
    })
  } catch (err) {
    const said = ((err as { stderr?: string }).stderr ?? String(err)).trim()
    throw new Error(`syft scan oci-archive:${archive}: ${said}`, { cause: err })
  }
}
