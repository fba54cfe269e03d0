import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { containerdConfig } from '../../../../control-plane/node/config.js'
import { registryHostsDir, registryHostsFiles, writeRegistryHosts }
  from '../../../../control-plane/node/registry-hosts.js'

t.test('containerd reads its registry hosts from the node\'s folder', async t => {
  const section = /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n\s+config_path = "\/n\/registry-hosts"\n/
  t.match(containerdConfig('/n'), section)
  t.equal(registryHostsDir('/n'), '/n/registry-hosts')
})

t.test('HTTPS to the node\'s registry with its CA, every other host served by it: nothing else is named', async t => {
  const files = registryHostsFiles('10.88.0.1:5000', '/n/registry-tls/ca.crt')
  t.same(Object.keys(files).sort(), ['10.88.0.1:5000', '_default'])
  for (const toml of Object.values(files)) {
    t.match(toml, /^server = "https:\/\/10\.88\.0\.1:5000"\nca = "\/n\/registry-tls\/ca\.crt"$/m, 'the server, its CA')
    // containerd 1.6 ignores a file without a [host] table ("invalid `host` tree") and goes upstream.
    const capabilities = ' {2}capabilities = \\["pull", "resolve"\\]'
    const host = new RegExp(`^\\[host\\."https://10\\.88\\.0\\.1:5000"\\]\\n${capabilities}\\n {2}ca = "/n/registry-tls/ca\\.crt"$`, 'm')
    t.match(toml, host, 'the host, its CA')
    t.same([...new Set(toml.match(/https?:\/\/[^"]+/g))], ['https://10.88.0.1:5000'], 'no other address')
  }
  const dir = t.testdir({})
  await writeRegistryHosts(dir, '10.88.0.1:5000', '/n/registry-tls/ca.crt')
  t.equal(await readFile(join(dir, 'registry-hosts', '_default', 'hosts.toml'), 'utf8'), files._default)
})
