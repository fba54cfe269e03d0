/**
 * The key pairs as files in one directory (`--out DIR`): `ca.crt`, `ca.key`, `tls.crt`, `tls.key`,
 * the names a Secret volume of Secret `lameduck-tls` would show (plus the CA's key, which the
 * webhook never needs but the next renewal does). A webhook serving from this directory
 * (`serve --tls-cert DIR/tls.crt --tls-key DIR/tls.key`) picks up each change.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { KeyPair } from '../admission/types.js'

/** The file names, in the order they are written (a webhook keeps its current pair until both of its files match). */
export const FILES = { caKey: 'ca.key', caCert: 'ca.crt', key: 'tls.key', cert: 'tls.crt' } as const

/** The pairs found; a certificate without its key file has an empty key. */
export interface StoredPairs {
  readonly ca: KeyPair | undefined
  readonly serving: KeyPair | undefined
}

async function readOptional (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    if (code === 'ENOENT') return undefined
    throw new Error(`cannot read ${path}: ${message}`)
  }
}

async function readPair (dir: string, certName: string, keyName: string): Promise<KeyPair | undefined> {
  const cert = await readOptional(join(dir, certName))
  const key = await readOptional(join(dir, keyName))
  return cert === undefined ? undefined : { cert, key: key ?? '' }
}

/** Reads the pairs in `dir`; a missing directory or file is no pair, any other read error throws. */
export async function readDirectory (dir: string): Promise<StoredPairs> {
  return {
    ca: await readPair(dir, FILES.caCert, FILES.caKey),
    serving: await readPair(dir, FILES.cert, FILES.key)
  }
}

/**
 * Writes the files whose content differs, each atomically (a temporary file renamed over it, so a
 * watching webhook never reads half a file); keys with mode 0600. Returns the paths written.
 */
export async function writeDirectory (dir: string, pairs: { ca: KeyPair, serving: KeyPair }): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 })
  } catch (err) {
    throw new Error(`cannot create directory ${dir}: ${(err as Error).message}`)
  }
  const contents: Array<[string, string, number]> = [
    [FILES.caKey, pairs.ca.key, 0o600],
    [FILES.caCert, pairs.ca.cert, 0o644],
    [FILES.key, pairs.serving.key, 0o600],
    [FILES.cert, pairs.serving.cert, 0o644]
  ]
  const written: string[] = []
  for (const [name, content, mode] of contents) {
    const path = join(dir, name)
    if (await readOptional(path) === content) continue
    const temporary = join(dir, `.${name}.${process.pid}.tmp`)
    try {
      await writeFile(temporary, content, { mode })
      await rename(temporary, path)
    } catch (err) {
      throw new Error(`cannot write ${path}: ${(err as Error).message}`)
    }
    written.push(path)
  }
  return written
}
