// Loopback ports for the servers the tests start as child processes (PostgreSQL, HAProxy), which
// must be told a port before they listen.
import { connect, createServer } from 'node:net';

/** A port free on 127.0.0.1 at the time of asking. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });

/** True when something accepts connections on the port. */
export const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
