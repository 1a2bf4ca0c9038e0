/**
 * The admin token a collector uses when its config names none. It is a secret, so it goes to a
 * file only its owner can read (mode 0600) in the data directory, never to the log: logs are
 * shipped, kept and shown to people who must not hold it. The same file is read at the next start,
 * so the viewer login survives restarts (`npm start` uses the same file).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';

export interface GeneratedToken {
  token: string;
  file: string;
  /** True when this call wrote the file; false when it read one written before. */
  created: boolean;
}

const TOKEN_RE = /^[\x21-\x7e]{16,256}$/;

export const adminTokenFromFile = async (dataDir: string): Promise<GeneratedToken> => {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (TOKEN_RE.test(token)) {
      // A file copied in with looser permissions is tightened: the token is a secret.
      if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
      return { token, file, created: false };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(24).toString('base64url');
  // `wx`: two processes starting on one data dir do not overwrite each other's token; the
  // second reads the first one's. A file holding no valid token is replaced.
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const existing = (await readFile(file, 'utf8')).trim();
    if (TOKEN_RE.test(existing)) return { token: existing, file, created: false };
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return { token, file, created: true };
};
