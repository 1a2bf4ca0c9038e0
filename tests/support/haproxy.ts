/**
 * A real load balancer on loopback for tests: HAProxy from Debian (installed by .ci/run), round
 * robin per request with no stickiness (CORS preflights in a rotation of their own), health-checking `/ready` every 300 ms so a dead replica
 * is taken out quickly; a request whose connection to a dead replica fails is retried on the
 * other one (what a production HAProxy does too, docs/operations.md).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './browser.js';
import { accepts, freePort } from './ports.js';

export interface TestHaproxy {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** HAProxy in front of the given backend ports; `port` is the frontend's (0: a free one). */
export const startHaproxy = async (backends: readonly number[], port = 0): Promise<TestHaproxy> => {
  const front = port || (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'ferry-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 512',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  timeout check 5s',
      '  option forwardfor',
      '  retries 3',
      '  option redispatch 1',
      'frontend ferry',
      `  bind 127.0.0.1:${front}`,
      // CORS preflights take turns on their own: otherwise, with two replicas, each upload's
      // OPTIONS would go to one and its PATCH always to the other.
      '  use_backend preflights if METH_OPTIONS',
      '  default_backend collectors',
      ...['collectors', 'preflights'].flatMap((name) => [
        `backend ${name}`,
        '  balance roundrobin',
        '  option httpchk GET /ready',
        ...backends.map((p, i) => `  server c${i} 127.0.0.1:${p} check inter 300ms fall 2 rise 1`),
      ]),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const done = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  child.once('error', (e) => (stderr += String(e)));
  await until(
    async () => {
      if (exited) throw new Error(`haproxy exited: ${stderr}`);
      return accepts(front);
    },
    'HAProxy to listen',
    10_000,
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  });
  return {
    url: `http://127.0.0.1:${front}`,
    port: front,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
