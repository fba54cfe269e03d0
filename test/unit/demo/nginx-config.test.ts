import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ACCESS_LOG_FORMAT, renderNginxConfig } from '../../../demo/nginx-config.js'

const input = { prefix: '/tmp/demo-nginx', listenPort: 18080, upstreams: ['10.88.0.5:8080', '10.88.0.6:8080'], retries: false }

t.test('one loopback listener in front of every upstream, everything under the prefix', async t => {
  const conf = renderNginxConfig(input)
  t.match(conf, /^daemon off;$/m, 'stays in the foreground: its PID is the child the demo stops')
  t.match(conf, /^\s+listen 127\.0\.0\.1:18080;$/m)
  t.match(conf, /^\s+server 10\.88\.0\.5:8080 max_fails=0;\n\s+server 10\.88\.0\.6:8080 max_fails=0;$/m)
  t.match(conf, /^pid \/tmp\/demo-nginx\/nginx\.pid;$/m)
  t.match(conf, /^error_log \/tmp\/demo-nginx\/error\.log notice;$/m, 'notice: reloads are logged, and nginx.ts waits on them')
  t.match(conf, /access_log \/tmp\/demo-nginx\/access\.log demo;/)
  t.ok(conf.includes(`log_format demo '${ACCESS_LOG_FORMAT}';`))
  for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) t.match(conf, `${kind}_temp_path /tmp/demo-nginx/tmp/${kind};`)
  t.notMatch(conf.replace(/\/tmp\/demo-nginx/g, ''), /\/var\/|\/etc\//, 'nothing outside the prefix')
})

t.test('no retries unless asked, like an ALB or kube-proxy', async t => {
  t.match(renderNginxConfig(input), /proxy_next_upstream off;/)
  t.notMatch(renderNginxConfig(input), /proxy_next_upstream_tries/)
  const retrying = renderNginxConfig({ ...input, retries: true })
  t.match(retrying, /proxy_next_upstream error timeout http_502 http_503 http_504;/)
  t.match(retrying, /proxy_next_upstream_tries 3;/)
  t.notMatch(retrying, /proxy_next_upstream off/)
})

t.test('an empty upstream list is refused, as nginx would', async t => {
  t.throws(() => renderNginxConfig({ ...input, upstreams: [] }), /at least one upstream/)
})

t.test('nginx itself accepts the config', { skip: existsSync('/usr/sbin/nginx') ? false : 'nginx is not installed (apt-get install nginx)' }, async t => {
  const prefix = t.testdir({})
  await mkdir(join(prefix, 'tmp'))
  for (const retries of [false, true]) {
    const conf = join(prefix, 'nginx.conf')
    await writeFile(conf, renderNginxConfig({ ...input, prefix, retries }))
    const check = spawnSync('/usr/sbin/nginx', ['-t', '-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { encoding: 'utf8' })
    t.equal(check.status, 0, `nginx -t, retries ${retries}: ${check.stderr}`)
  }
})

t.test('the read timeout, and how long old workers may finish after a reload, follow readTimeoutSeconds', async t => {
  const conf = renderNginxConfig({ prefix: '/p', listenPort: 1, upstreams: ['10.88.0.5:8080'], retries: false, readTimeoutSeconds: 18 })
  t.match(conf, /proxy_read_timeout 18s;/)
  t.match(conf, /worker_shutdown_timeout 18s;/)
  t.match(renderNginxConfig({ prefix: '/p', listenPort: 1, upstreams: ['10.88.0.5:8080'], retries: false }), /proxy_read_timeout 10s;/)
})
