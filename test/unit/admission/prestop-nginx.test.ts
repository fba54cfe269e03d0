// The nginx preset's exact hook command against a real nginx (Debian's, two workers): after the
// pause its workers get a graceful quit (a slow download in flight still completes), and the hook
// ends, with status 0, once they are gone, while the master still runs: the container's end cannot
// cut the hook short, so the kubelet has no failed hook to report. Then the master gets SIGTERM, as
// the kubelet sends an image without STOPSIGNAL, and exits at once with nothing left to cut. It runs
// in its own PID namespace (unshare, as root), as a container would, so the hook's /proc scan can
// only ever find this test's nginx.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { buildPreStop } from '../../../src/admission/prestop.js'

const have = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0
const runnable = process.getuid?.() === 0 && have('nginx', ['-v']) && have('unshare', ['--pid', '--fork', '--mount-proc', 'true']) && have('curl', ['--version'])

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise(resolve => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

const skip = runnable ? false : 'needs root, nginx, unshare and curl'

t.test('the hook drains the workers of a real nginx gracefully and ends while its master still runs', { skip }, async t => {
  const dir = t.testdir({ html: {} })
  const port = await freePort()
  // 400 KB served at 200 KB/s: a download that is still running when the quit arrives.
  writeFileSync(join(dir, 'html', 'big'), Buffer.alloc(400 * 1024, 'x'))
  writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
worker_processes 2;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port}; root ${dir}/html; limit_rate 200k; }
}
`)
  const hook = (buildPreStop('exec', 1, 'nginxinc/nginx-unprivileged:1.27') as { exec: { command: string[] } }).exec.command
  const quote = (word: string): string => `'${word.replaceAll('\'', '\'\\\'\'')}'`
  // Inside the namespace: nginx (its parent reaps it, as a container runtime or tini would), a slow
  // download, then the hook; once the hook is done, whether the master still runs, then the
  // kubelet's part (SIGTERM to the master); each end is printed with the time, in milliseconds.
  const script = [
    `nginx -p ${dir} -c ${dir}/nginx.conf -g 'daemon off;' & n=$!`,
    `i=0; until curl -s -o /dev/null http://127.0.0.1:${port}/ 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done`,
    `curl -s -o ${dir}/downloaded http://127.0.0.1:${port}/big & c=$!`,
    'sleep 0.3',
    `${hook.map(quote).join(' ')} & h=$!`,
    'wait $h; echo "hook $? $(date +%s%3N)"',
    'kill -0 $n; echo "master $?"',
    'kill -TERM $n; wait $n; echo "nginx $? $(date +%s%3N)"',
    'wait $c; echo "curl $?"'
  ].join('\n')
  // A hook that never ends would leave `wait $h` waiting: 20 s, then everything is killed.
  const child = spawn('timeout', ['-s', 'KILL', '20', 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const [out, err] = await Promise.all([text(child.stdout), text(child.stderr)])
  const ends = Object.fromEntries(out.trim().split('\n').map(line => line.split(' ')).map(([what, code, at]) => [what, { code: Number(code), at: Number(at) }]))
  t.equal(ends.nginx?.code, 0, `nginx exited 0 (stderr: ${err.trim()})`)
  t.equal(ends.curl?.code, 0, 'the download in flight completed')
  t.equal(spawnSync('stat', ['-c', '%s', join(dir, 'downloaded')], { encoding: 'utf8' }).stdout.trim(), String(400 * 1024), 'all of it')
  t.equal(ends.hook?.code, 0, 'the hook succeeded')
  t.equal(ends.master?.code, 0, 'the master still ran when the hook ended: the container outlives the hook')
  t.ok(ends.hook!.at <= ends.nginx!.at, 'the hook ended before nginx did')
  const log = spawnSync('cat', [join(dir, 'error.log')], { encoding: 'utf8' }).stdout
  const lines = log.split('\n')
  const quits = lines.flatMap((line, i) => /signal 3 \(SIGQUIT\) received.*shutting down/.test(line) ? [i] : [])
  const term = lines.findIndex(line => /signal 15 \(SIGTERM\) received/.test(line))
  t.equal(quits.length, 2, 'both workers got a graceful quit')
  t.ok(term > Math.max(...quits), 'the master\'s SIGTERM came after the workers were done')
  t.match(log, /start worker process/, 'the master started fresh workers, which the SIGTERM stopped idle')
})
