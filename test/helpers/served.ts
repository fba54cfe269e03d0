/**
 * What a webhook on this machine serves, seen as the API server sees it: a TLS handshake with the
 * SNI the API server uses for the Service (lameduck.lameduck-system.svc), certificate unchecked.
 */
import tls from 'node:tls'

/** The SHA-256 fingerprint of the certificate served on `port` to `servername`. */
export function servedFingerprint (port: number, servername = 'lameduck.lameduck-system.svc'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256)
      socket.destroy()
    }).on('error', reject)
  })
}
