/**
 * The objects each scenario deploys in a namespace, as a user would write them. Every scenario
 * disrupts the Deployment `web` behind the Service `web` (the one the load goes through):
 *
 *   - rollout, scale-in: the sample app;
 *   - evict, drain: the sample app and the PodDisruptionBudget it would ship (`maxUnavailable: 1`),
 *     which the Eviction API (and so `kubectl drain`) honours;
 *   - node-loss: the sample app;
 *   - nginx: Pods running Debian's nginx (control-plane/images/nginx-image.ts) as a reverse proxy in
 *     front of the sample app (Deployment and Service `backend`, never disrupted). Without lameduck
 *     they have the hook people write by hand, a plain `sleep` as long as lameduck's pause; with it,
 *     the Pod asks for the `exec` handler, which for an nginx image is the preset (pause, graceful
 *     quit, wait for the master), and a shutdown budget that covers the slow requests.
 *
 * Pure: workloads.ts applies them.
 */
import {
  ADAPTIVE_MAX_ANNOTATION, ADAPTIVE_QUIET_ANNOTATION, BUDGET_ANNOTATION, HANDLER_ANNOTATION, SLEEP_ANNOTATION
} from '../src/admission/keys.js'
import { ADAPTIVE_SETTINGS, type Scenario } from './scenarios.js'

/** The nginx Pods' port (named `http`, as the sample app's; `web`'s Service targets that name). */
export const NGINX_PORT = 8080

/** What the objects depend on besides the scenario. */
export interface ScenarioObjectsInput {
  namespace: string
  replicas: number
  /** demo/sample-app.ts, for its ConfigMap. */
  script: string
  /** The sample app's Pod template (workloads.ts), given its `app` label. */
  appTemplate: (app: string) => { metadata: object, spec: object }
  /** lameduck's pause in this demo, which the hand-written nginx hook matches. */
  sleepSeconds: number
  /** The nginx image (control-plane/images/nginx-image.ts), a name lameduck recognises as nginx. */
  nginxImage: string
  /** The nginx Pods' shutdown budget with lameduck: long enough for a slow request to finish. */
  nginxBudgetSeconds: number
}

/** The nginx.conf of the nginx Pods: a reverse proxy to the Service `backend`, every path it writes under /tmp. */
export function nginxPodConfig (): string {
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(kind => `  ${kind}_temp_path /tmp/${kind};`).join('\n')
  return `# The nginx scenario's Pods (demo/scenario-objects.ts)
user nobody nogroup;
worker_processes 1;
pid /tmp/nginx.pid;
error_log /dev/stderr notice;

events {
  worker_connections 1024;
}

http {
  access_log off;
${temps}
  upstream backend {
    # The Service's name, resolved through the cluster DNS when nginx starts.
    server backend:80;
    keepalive 16;
  }
  server {
    listen ${NGINX_PORT};
    location = /healthz {
      return 200 "ok\\n";
    }
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 60s;
    }
  }
}
`
}

/** A Deployment `name` of `replicas` with `template`. */
function deployment (namespace: string, name: string, replicas: number, template: object): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template
    }
  }
}

/** A Service `name` on port 80 in front of the port named `http` of the Pods labelled `app: name`. */
function service (namespace: string, name: string): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
}

/** The nginx Pods' template: nginx with the config above; the hand-written hook, or lameduck's settings. */
function nginxTemplate (i: ScenarioObjectsInput, withLameduck: boolean): object {
  return {
    metadata: {
      labels: { app: 'web' },
      ...(withLameduck ? { annotations: { [HANDLER_ANNOTATION]: 'exec', [BUDGET_ANNOTATION]: `${i.nginxBudgetSeconds}s` } } : {})
    },
    spec: {
      containers: [{
        name: 'nginx',
        image: i.nginxImage,
        command: ['nginx', '-c', '/etc/nginx-demo/nginx.conf', '-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: NGINX_PORT }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
        volumeMounts: [{ name: 'config', mountPath: '/etc/nginx-demo', readOnly: true }],
        ...(withLameduck ? {} : { lifecycle: { preStop: { sleep: { seconds: i.sleepSeconds } } } })
      }],
      volumes: [{ name: 'config', configMap: { name: 'nginx' } }]
    }
  }
}

/**
 * The adaptive scenario's sample app: with lameduck, the Pods ask for the adaptive pause (the same
 * annotations whatever the load balancer's delay); without, the fixed sleep people write by hand,
 * sized for the slow case (`sleepSeconds`), and a grace period to match.
 */
function adaptiveTemplate (i: ScenarioObjectsInput, withLameduck: boolean): object {
  const { metadata, spec } = i.appTemplate('web') as { metadata: { labels: object }, spec: { containers: object[] } }
  if (withLameduck) {
    const { min, quiet, max } = ADAPTIVE_SETTINGS
    const annotations = {
      [HANDLER_ANNOTATION]: 'adaptive',
      [SLEEP_ANNOTATION]: `${min}s`,
      [ADAPTIVE_QUIET_ANNOTATION]: `${quiet}s`,
      [ADAPTIVE_MAX_ANNOTATION]: `${max}s`
    }
    return { metadata: { ...metadata, annotations }, spec }
  }
  const [app, ...rest] = spec.containers
  const hooked = { ...app, lifecycle: { preStop: { sleep: { seconds: i.sleepSeconds } } } }
  const grace = i.sleepSeconds + 5
  return { metadata, spec: { ...spec, containers: [hooked, ...rest], terminationGracePeriodSeconds: grace } }
}

/**
 * The objects of `scenario` in a namespace, `withLameduck` when it opts in. The nginx Pods of a
 * namespace without lameduck carry the sleep hook; the sample app is the same in both.
 */
export function scenarioObjects (scenario: Scenario, i: ScenarioObjectsInput, withLameduck: boolean): object[] {
  const { namespace } = i
  const sampleApp = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sample-app', namespace }, data: { 'sample-app.ts': i.script } }
  if (scenario === 'nginx') {
    return [
      sampleApp,
      deployment(namespace, 'backend', i.replicas, i.appTemplate('backend')),
      service(namespace, 'backend'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nginx', namespace }, data: { 'nginx.conf': nginxPodConfig() } },
      deployment(namespace, 'web', i.replicas, nginxTemplate(i, withLameduck)),
      service(namespace, 'web')
    ]
  }
  const template = scenario === 'adaptive' ? adaptiveTemplate(i, withLameduck) : i.appTemplate('web')
  const objects = [sampleApp, deployment(namespace, 'web', i.replicas, template), service(namespace, 'web')]
  if (scenario === 'evict' || scenario === 'drain') {
    objects.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } })
  }
  return objects
}
