// The cert-manager variant (the chart rendered with certificates.source=cert-manager) against a
// real API server that knows cert-manager's types: its CRDs come
// from cert-manager's own Go module (plain CRD YAML in deploy/crds/), fetched through the Go module
// proxy and cached in the module cache like the control plane's modules. cert-manager itself does
// not run here, so what is checked is that the API server accepts every object of the overlay as
// written, and that the overlay asks cainjector for the caBundle instead of leaving it to the script.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goOutput } from '../../control-plane/go.js'
import { clusterFor, kubectl as kubectlOf } from '../helpers/e2e.js'

/** cert-manager's release whose CRDs the overlay is checked against (cert-manager.io/v1 since 1.0). */
const CERT_MANAGER = 'github.com/cert-manager/cert-manager@v1.21.2'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const cluster = await clusterFor(t, 300_000)

const kubectl = async (args: string[], input?: string): Promise<string> =>
  (await kubectlOf(cluster, args, input)).stdout

/** The directory of cert-manager's CRDs in the module cache, downloaded on first use. */
async function crdDirectory (): Promise<string> {
  const { Dir } = JSON.parse(await goOutput(['mod', 'download', '-json', CERT_MANAGER], { cwd: tmpdir() })) as { Dir: string }
  return join(Dir, 'deploy/crds')
}

t.test('the API server accepts every object of the cert-manager overlay', async t => {
  const crds = await crdDirectory()
  const files = (await readdir(crds)).filter(file => file.endsWith('.yaml')).sort()
  t.ok(files.includes('cert-manager.io_certificates.yaml') && files.includes('cert-manager.io_issuers.yaml'), `CRDs found: ${files.join(', ')}`)
  for (const file of files) await kubectl(['apply', '--server-side', '-f', '-'], await readFile(join(crds, file), 'utf8'))
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io'])
  // A server-side dry run cannot create the namespace its other objects go to.
  await kubectl(['apply', '-f', join(ROOT, 'manifests/base/namespace.yaml')])
  const out = await kubectl(['apply', '--dry-run=server', '-k', join(ROOT, 'manifests/cert-manager')])
  for (const object of ['issuer.cert-manager.io/lameduck-selfsigned', 'issuer.cert-manager.io/lameduck-ca', 'certificate.cert-manager.io/lameduck-ca',
    'certificate.cert-manager.io/lameduck-serving', 'deployment.apps/lameduck', 'mutatingwebhookconfiguration.admissionregistration.k8s.io/lameduck']) {
    t.match(out, new RegExp(`^${object.replaceAll('.', '\\.')} created \\(server dry run\\)$`, 'm'), object)
  }
})

t.test('the overlay asks cainjector for the caBundle, and its certificate names the Service', async t => {
  const built = await kubectl(['kustomize', join(ROOT, 'manifests/cert-manager')])
  t.match(built, /cert-manager\.io\/inject-ca-from: lameduck-system\/lameduck-serving/)
  t.match(built, /secretName: lameduck-tls/, 'the Secret the Deployment mounts')
  t.match(built, /- lameduck\.lameduck-system\.svc\n/, 'the name the API server sends as SNI')
  t.match(built, /- --tls-cert=\/etc\/lameduck\/tls\/tls\.crt\n/, 'the pair from the Secret volume cert-manager writes')
  t.notMatch(built, /--renew-certs|--tls-secret/, 'lameduck\'s own certificates off')
  t.notMatch(built, /lameduck-renew/, 'and its Lease and RBAC gone')
  // Apply it for real: the API server stores the typed objects (nothing issues them here).
  await kubectl(['apply', '-k', join(ROOT, 'manifests/cert-manager')])
  const certificate = JSON.parse(await kubectl(['get', 'certificate', '-n', 'lameduck-system', 'lameduck-serving', '-o', 'json'])) as { spec: { issuerRef: { name: string }, privateKey: { algorithm: string } } }
  t.equal(certificate.spec.issuerRef.name, 'lameduck-ca')
  t.equal(certificate.spec.privateKey.algorithm, 'ECDSA')
})
