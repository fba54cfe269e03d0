/**
 * The cluster's credentials, made with node:crypto: the service-account key pair that the API
 * server verifies and signs tokens with (the controller manager signs with the same private key),
 * and the static bearer token kubectl uses as a member of system:masters.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Paths of the credential files in a cluster directory, and the admin token. */
export interface Credentials {
  serviceAccountKey: string
  serviceAccountPub: string
  tokenFile: string
  token: string
}

/**
 * Writes an ECDSA P-256 service-account key pair (fast to generate; ES256 is accepted for
 * --service-account-signing-key-file) and a static token file `TOKEN,admin,uid,system:masters`.
 */
export async function writeCredentials (dir: string): Promise<Credentials> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  const token = randomBytes(24).toString('hex')
  const creds: Credentials = {
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    tokenFile: join(dir, 'tokens.csv'),
    token
  }
  await writeFile(creds.serviceAccountKey, privateKey, { mode: 0o600 })
  await writeFile(creds.serviceAccountPub, publicKey)
  await writeFile(creds.tokenFile, `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 })
  return creds
}
