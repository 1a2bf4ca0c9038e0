/** Runs the collector as its own process (`src/server/main.ts`), as an operator would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { until } from '../../support/browser.js';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface CollectorProcess {
  url: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The compiled collector's command (npm run build:collector), run with node alone. */
export const COLLECTOR_BIN = join(ROOT, 'collector/bin/ferry-collector.js');

export const spawnCollector = async (
  dir: string,
  config: Record<string, unknown>,
  o: { compiled?: boolean; env?: Record<string, string>; listenTimeoutMs?: number } = {},
): Promise<CollectorProcess> => {
  const file = join(dir, 'ferry.config.json');
  writeFileSync(file, JSON.stringify({ port: 0, dataDir: join(dir, 'data'), ...config }));
  const args = o.compiled ? [COLLECTOR_BIN, 'start', '--config', file] : ['--import', 'tsx', join(ROOT, 'src/server/main.ts'), '--config', file];
  const child = spawn(process.execPath, args, {
    cwd: o.compiled ? dir : ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FERRY_LOG_FORMAT: 'json', ...o.env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let dead = false;
  void exited.then(() => (dead = true));
  const listening = await until(
    () => {
      if (dead) throw new Error(`collector exited early: ${stderr}`);
      return logs.find((l) => l.msg === 'listening');
    },
    'the collector to listen',
    o.listenTimeoutMs ?? 20_000,
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\nstderr: ${stderr}`);
  });
  return {
    url: (listening as Record<string, unknown>).url as string,
    child,
    logs,
    exited,
    kill: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
};
