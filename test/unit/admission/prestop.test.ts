import t from 'tap'
import { buildPreStop, isNginxImage } from '../../../src/admission/prestop.js'

t.test('recognises nginx and openresty images by repository name', async t => {
  const yes = ['nginx', 'nginx:1.27', 'docker.io/library/nginx:1.25-alpine', 'nginxinc/nginx-unprivileged:stable', 'openresty/openresty:alpine', 'registry.local:5000/NGINX@sha256:abc', 'nginx@sha256:0123',
    'registry.k8s.io/nginx-slim:0.27', 'docker.io/bitnami/nginx:1.27.3', 'nginxinc/nginx-unprivileged:1.27-alpine-slim', 'openresty/openresty:1.25.3.2-alpine-fat', 'bitnami/openresty:1.25', 'cgr.dev/chainguard/nginx:latest']
  const no = [undefined, '', 'registry.k8s.io/ingress-nginx/controller:v1.11.0', 'example/nginx-exporter:1', 'envoyproxy/envoy', 'my-nginx:1', 'nginx.example.com/app:1']
  for (const image of yes) t.ok(isNginxImage(image), String(image))
  for (const image of no) t.notOk(isNginxImage(image), String(image))
})

t.test('builds the hook for each handler', async t => {
  t.same(buildPreStop('sleep', 15, 'nginx'), { sleep: { seconds: 15 } }, 'the native sleep needs no binary, even for nginx')
  t.same(buildPreStop('exec', 20, 'example/app:1'), { exec: { command: ['sleep', '20'] } })
  const nginx = buildPreStop('exec', 20, 'nginx:1.27') as { exec: { command: string[] } }
  t.equal(nginx.exec.command[0], '/bin/sh')
  const script = nginx.exec.command[2]
  t.match(script, /^sleep 20; .*'\^nginx: worker'.*kill -QUIT \$w; while .*\[ -e "\/proc\/\$p" \].*; do sleep 1; done; fi$/)
  t.notMatch(script, /nginx\.pid|nginx -s|master/, 'no pid file, no signal to the master: the container must outlive the hook')
})
