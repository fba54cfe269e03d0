/**
 * The nginx.conf of the demo's load balancer: one loopback listener in front of the app's Pods,
 * configured like an AWS ALB or kube-proxy rather than like nginx's defaults, so that a request sent
 * to a backend that has gone away fails instead of being quietly tried elsewhere. Pure: nginx.ts
 * writes the text and runs nginx with it.
 */

/** What the load balancer needs to know. */
export interface NginxConfigInput {
  /** nginx's prefix directory (`-p`): pid file, logs and temp files go under it. */
  prefix: string
  /** The loopback port clients send to. */
  listenPort: number
  /** `IP:PORT` of the endpoints that are ready right now (Pod addresses on the node's bridge); at least one. */
  upstreams: readonly string[]
  /** Retry a failed request on another backend, as nginx does by default (`--retries`). */
  retries: boolean
  /** How long a backend may take to answer (default 10 s; the nginx scenario's slow requests take longer). */
  readTimeoutSeconds?: number
}

/**
 * The access log line: when, status, and every backend tried. `$upstream_addr` lists each try
 * separated by ", ", which is how a retry shows (summary.ts counts them).
 */
export const ACCESS_LOG_FORMAT = '$msec $status "$upstream_addr" "$upstream_status" $request_time'

/** Temp paths nginx would otherwise put under its compiled-in prefix (/var/lib/nginx, root only). */
const TEMP_PATHS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']

/** The nginx.conf text; throws when there is no upstream (nginx refuses an empty upstream block). */
export function renderNginxConfig (input: NginxConfigInput): string {
  const { prefix, listenPort, upstreams, retries, readTimeoutSeconds = 10 } = input
  if (upstreams.length === 0) throw new Error('nginx needs at least one upstream')
  const servers = upstreams.map(address => `    server ${address} max_fails=0;`).join('\n')
  const temps = TEMP_PATHS.map(kind => `  ${kind}_temp_path ${prefix}/tmp/${kind};`).join('\n')
  const nextUpstream = retries
    ? '      proxy_next_upstream error timeout http_502 http_503 http_504;\n      proxy_next_upstream_tries 3;'
    : '      proxy_next_upstream off;'
  return `# Written by the lameduck demo (demo/nginx-config.ts); run as nginx -p ${prefix} -c ${prefix}/nginx.conf
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log notice;
# Old workers finish their requests after a reload (the slowest ones too), but never hold the demo up for long.
worker_shutdown_timeout ${readTimeoutSeconds}s;

events {
  worker_connections 1024;
}

http {
  log_format demo '${ACCESS_LOG_FORMAT}';
  access_log ${prefix}/access.log demo;
${temps}
  # One request per client connection: a reload (how this nginx learns of an endpoint change; ingress-nginx
  # does it without one) then never races a client's next request on an idle connection it closes.
  keepalive_timeout 0;

  upstream app {
    # max_fails=0: no passive ejection of a failing backend, as with kube-proxy and an ALB.
${servers}
    # Reused connections to the backends, as an ALB keeps them.
    keepalive 16;
  }

  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout ${readTimeoutSeconds}s;
${nextUpstream}
    }
  }
}
`
}
