/**
 * Cluster directories: fresh for every start. A directory the caller names is only wiped when it
 * is empty or was made by us (it holds a marker file), so a mistyped path never loses data.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const marker = '.lameduck-cluster'

/** A fresh cluster directory: `dir` emptied, or a new temporary one (`owned`: removed on stop). */
export async function prepareDir (dir?: string): Promise<{ dir: string, owned: boolean }> {
  if (dir === undefined) {
    const created = await mkdtemp(join(tmpdir(), 'lameduck-cluster-'))
    await writeFile(join(created, marker), '')
    return { dir: created, owned: true }
  }
  const path = resolve(dir)
  const entries: string[] = await readdir(path).catch(() => [])
  if (entries.length > 0 && !entries.includes(marker)) throw new Error(`${path} is not empty and was not made by startCluster; refusing to wipe it`)
  await rm(path, { recursive: true, force: true })
  await mkdir(path, { recursive: true })
  await writeFile(join(path, marker), '')
  return { dir: path, owned: false }
}

/** Removes a cluster directory. */
export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}
