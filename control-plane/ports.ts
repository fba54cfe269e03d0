/**
 * Free loopback ports, found by letting the kernel pick (binding port 0). All are held open
 * together until each is known, so one call never returns the same port twice.
 */
import { createServer, type Server } from 'node:net'

function listen (): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve(server) })
  })
}

/** `count` distinct ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, listen))
  const ports = servers.map((server) => {
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('unexpected listen address')
    return address.port
  })
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}
