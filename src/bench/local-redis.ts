/**
 * A throwaway redis-server for the queue's tests and benchmark (not for
 * production: no persistence, bound to 127.0.0.1 on a free port).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Why Redis tests cannot run here, or null when redis-server is installed (CI installs it: .ci/run). */
export function redisMissing(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'redis-server is not installed (apt-get install redis-server)';
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

/** A throwaway redis-server on 127.0.0.1, without persistence (fast), stopped by the test. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`redis-server did not start: ${log}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/Ready to accept connections/.test(log)) { clearTimeout(t); res(); }
    });
    proc.once('exit', (code) => { clearTimeout(t); rej(new Error(`redis-server exited with ${code}: ${log}`)); });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    proc,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null) { res(); return; }
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
    }),
  };
}
