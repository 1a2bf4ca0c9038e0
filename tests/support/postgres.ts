/**
 * A throwaway PostgreSQL server for tests: a fresh cluster in a temp dir, owned by the `postgres`
 * user (the server refuses to run as root), on a free loopback port with its socket in that dir.
 * It never touches a cluster the Debian package may have started on 5432. When PostgreSQL is
 * missing or fails to start, this throws: the tests that need it fail, they are never skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface TestPostgres {
  /** A `postgres://` URL of a fresh, empty database. */
  url: string;
  port: number;
  /** Creates another empty database on the same server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server at once (`-m immediate`, as a crash) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const findBinDir = (): string => {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0])
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); install the Debian "postgresql" package (.ci/run does)');
  return join(root, versions[0], 'bin');
};

export const startPostgres = async (): Promise<TestPostgres> => {
  const bin = findBinDir();
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]): string => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    try {
      return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`PostgreSQL test server: ${cmd} failed: ${err.stderr || err.message}`);
    }
  };
  const base = mkdtempSync('/tmp/ferry-pg-');
  const data = join(base, 'data');
  const sock = join(base, 'sock');
  mkdirSync(data);
  mkdirSync(sock);
  if (asRoot)
    for (const p of [base, data, sock])
      chownSync(
        p,
        Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
        Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
      );
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);

  let port = 0;
  let started = false;
  const optsFor = (p: number) => `-p ${p} -k ${sock} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=32MB`;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const opts = optsFor(port);
    try {
      run('pg_ctl', ['-D', data, '-l', join(base, 'log'), '-o', opts, '-w', '-t', '30', 'start']);
      started = true;
    } catch (e) {
      if (attempt === 2) {
        const log = existsSync(join(base, 'log')) ? readFileSync(join(base, 'log'), 'utf8') : '';
        rmSync(base, { recursive: true, force: true });
        throw new Error(`${(e as Error).message}\n${log}`);
      }
    }
  }

  const stopSync = (): void => {
    if (!started) return;
    started = false;
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']]
      : [join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']];
    spawnSync(file, argv, { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };
  // A test process that dies early must not leave a server running.
  process.once('exit', stopSync);

  const createDatabase = async (name: string): Promise<string> => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`]);
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = await createDatabase('ferry_test');
  const restart = async (): Promise<void> => {
    run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    run('pg_ctl', ['-D', data, '-l', join(base, 'log'), '-o', optsFor(port), '-w', '-t', '30', 'start']);
  };
  return {
    url,
    port,
    createDatabase,
    restart,
    stop: async () => stopSync(),
  };
};
