/**
 * SHA256SUMS, in the format `sha256sum -c` reads: one line per file, `HASH  NAME`, sorted by name.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The name of the checksum file in a release. */
export const CHECKSUMS = 'SHA256SUMS'

/** The file's lines for these hashes, by file name. */
export function formatChecksums (hashes: ReadonlyMap<string, string>): string {
  return [...hashes.keys()].sort().map(name => `${hashes.get(name)!}  ${name}\n`).join('')
}

/** The SHA-256 of a file, in hex. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Writes SHA256SUMS over every other file in `dir`; resolves with its text. */
export async function writeChecksums (dir: string): Promise<string> {
  const hashes = new Map<string, string>()
  for (const name of await readdir(dir)) if (name !== CHECKSUMS) hashes.set(name, await sha256File(join(dir, name)))
  const text = formatChecksums(hashes)
  await writeFile(join(dir, CHECKSUMS), text)
  return text
}
