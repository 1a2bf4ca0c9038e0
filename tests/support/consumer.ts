/**
 * The package as users get it: `npm pack` of this repository, installed with nothing but a bundler
 * into a throwaway app directory. The bundler versions are the ones this repository locks, so the
 * install is served from npm's cache once `npm ci` has run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');

const lockedVersion = async (name: string): Promise<string> =>
  (JSON.parse(await readFile(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

export interface Packed {
  /** The tarball `npm pack` wrote. */
  tarball: string;
  name: string;
  /** The directory holding it (removed by `dispose`). */
  dir: string;
  dispose(): Promise<void>;
}

/** `npm pack` of the built repository (run `npm run build` first: the tarball carries dist/). */
export const packRepository = async (): Promise<Packed> => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout) as { filename: string; name: string }[];
  return { tarball: join(dir, info.filename), name: info.name, dir, dispose: () => rm(dir, { recursive: true, force: true }) };
};

export interface ConsumerApp {
  dir: string;
  /** Runs a command in the app directory; rejects with its output when it fails. */
  exec(command: string, args: string[]): Promise<string>;
  dispose(): Promise<void>;
}

/**
 * A new app directory with `files` written into it and `dependencies` (the tarball, given as a
 * path, and bundlers by name at this repository's locked version) installed by npm.
 */
export const createConsumerApp = async (files: Record<string, string>, tarball: string, tools: string[]): Promise<ConsumerApp> => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-app-'));
  const exec = async (command: string, args: string[]): Promise<string> => {
    try {
      const { stdout, stderr } = await run(command, args, { cwd: dir, maxBuffer: 64 << 20 });
      return stdout + stderr;
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command} ${args.join(' ')} failed in ${dir}:\n${x.stdout ?? ''}${x.stderr ?? ''}\n${x.message}`);
    }
  };
  const devDependencies: Record<string, string> = {};
  for (const t of tools) devDependencies[t] = await lockedVersion(t);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module', devDependencies }, null, 2));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--include=dev', tarball]);
  return { dir, exec, dispose: () => rm(dir, { recursive: true, force: true }) };
};
