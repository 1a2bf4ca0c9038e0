/**
 * A loopback TCP proxy the fault tests control. It forwards bytes between a client (the agent, or
 * the collector's database driver) and a target, and can cut, stall, slow or reset a connection.
 *
 * In `http` mode it follows HTTP/1.1 requests on each connection (request line, headers and a
 * Content-Length body; keep-alive reuse included), so a fault can be aimed at one request: cut at
 * byte k of the request (the server saw part of it), cut at byte k of the reply (the server acted,
 * the client never heard), hold it forever (a black hole), answer it late, or reset a reused
 * connection as its next request arrives. In `raw` mode (PostgreSQL) faults are per connection.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Bytes of the whole request: head plus body. */
  bytes: number;
  /** Its index on its connection (0 = first; > 0 means a reused keep-alive connection). */
  onConnection: number;
  /** Its index over the proxy's life. */
  index: number;
  /** Its headers, names in lower case. */
  headers: Record<string, string>;
}

export type RequestFault =
  | { type: 'pass' }
  /** Forward the first `at` bytes of the request, then close both sides. */
  | { type: 'cut-request'; at: number }
  /** Forward the request, then only the first `at` bytes of its reply, then close both sides. */
  | { type: 'cut-reply'; at: number }
  /** Accept the request and never forward nor answer it (the connection stays open). */
  | { type: 'black-hole' }
  /** Forward the request, hold its reply for `ms`. */
  | { type: 'slow'; ms: number }
  /** Reset (RST) the connection as this request arrives. */
  | { type: 'reset' }
  /** Answer in the collector's place (a 429 or 503 from it or from a gateway); the request never reaches it. */
  | { type: 'answer'; status: number; headers?: Record<string, string> };

export interface FaultProxy {
  port: number;
  url: string;
  /** Every request seen (http mode), with the fault applied to it. */
  log: (Omit<ProxiedRequest, 'headers'> & { fault: RequestFault['type'] })[];
  /** Bytes the client sent and received through the proxy (headers and bodies). */
  bytes: { up: number; down: number };
  /** Decides each request's fate (http mode). */
  plan: (r: ProxiedRequest) => RequestFault;
  /** Told the status of each reply as its first bytes pass (http mode), after they are forwarded. */
  onReply?: (r: ProxiedRequest, status: number) => void;
  /** Where new connections go (a restarted target listens on another port). */
  target: { host?: string; port: number };
  /** Raw mode: closes every open connection at once (as a network drop). */
  dropAll(): void;
  /** Raw mode: while true, new connections are refused (closed at once). */
  refuse: boolean;
  close(): Promise<void>;
}

interface HeadInfo {
  method: string;
  path: string;
  length: number;
  headers: Record<string, string>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

const parseHead = (head: string): HeadInfo => {
  const [line = '', ...rest] = head.split('\r\n');
  const [method = '', path = ''] = line.split(' ');
  let length = 0;
  const headers: Record<string, string> = {};
  for (const h of rest) {
    const i = h.indexOf(':');
    const name = h.slice(0, i).trim().toLowerCase();
    headers[name] = h.slice(i + 1).trim();
    if (name === 'content-length') length = Number(h.slice(i + 1).trim());
    // The agent's requests always carry a length (string and byte bodies); a chunked one would
    // make this proxy lose track of request boundaries, so it is a test error, said loudly.
    if (name === 'transfer-encoding') throw new Error(`the fault proxy cannot follow a chunked request (${line})`);
  }
  return { method, path, length, headers };
};

export const startProxy = async (target: { host?: string; port: number }, mode: 'http' | 'raw' = 'http'): Promise<FaultProxy> => {
  const sockets = new Set<Socket>();
  let index = 0;
  const proxy: FaultProxy = {
    port: 0,
    url: '',
    log: [],
    bytes: { up: 0, down: 0 },
    plan: () => ({ type: 'pass' }),
    target,
    refuse: false,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {},
  };

  const onClient = (client: Socket): void => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: proxy.target.host ?? '127.0.0.1', port: proxy.target.port });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());

    if (mode === 'raw') {
      client.on('data', (d: Buffer) => {
        proxy.bytes.up += d.length;
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        proxy.bytes.down += d.length;
        client.write(d);
      });
      return;
    }

    // http mode: the request being received (its head is parsed once complete), and the fault
    // that applies to the reply of the last request forwarded whole.
    let pending: Buffer = Buffer.alloc(0);
    let current: { info: HeadInfo; total: number; sent: number; fault: RequestFault } | undefined;
    let onConnection = 0;
    let reply: { fault: RequestFault; seen: number; req?: ProxiedRequest } | undefined;
    let held = false;

    upstream.on('data', (d: Buffer) => {
      const told = reply?.req;
      if (told && reply) {
        reply.req = undefined;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(d.subarray(0, 16).toString('latin1'))?.[1] ?? 0);
        setImmediate(() => proxy.onReply?.(told, status));
      }
      const f = reply?.fault;
      if (f?.type === 'cut-reply' && reply) {
        const room = f.at - reply.seen;
        if (room <= d.length) {
          if (room > 0) {
            proxy.bytes.down += room;
            client.write(d.subarray(0, room));
          }
          client.end(() => kill());
          reply = undefined;
          return;
        }
        reply.seen += d.length;
      }
      proxy.bytes.down += d.length;
      if (f?.type === 'slow') {
        upstream.pause();
        setTimeout(() => {
          if (reply?.fault === f) reply = { fault: { type: 'pass' }, seen: 0 };
          client.write(d);
          upstream.resume();
        }, f.ms);
        return;
      }
      client.write(d);
    });

    const feed = (): void => {
      while (!held) {
        if (!current) {
          const end = pending.indexOf(HEAD_END);
          if (end < 0) return;
          const headBytes = end + HEAD_END.length;
          let info: HeadInfo;
          try {
            info = parseHead(pending.subarray(0, end).toString('latin1'));
          } catch (e) {
            console.error(String(e));
            kill();
            return;
          }
          const r: ProxiedRequest = {
            method: info.method,
            path: info.path,
            bytes: headBytes + info.length,
            onConnection: onConnection++,
            index: index++,
            headers: info.headers,
          };
          let fault: RequestFault;
          try {
            fault = proxy.plan(r);
          } catch (e) {
            console.error(`fault plan failed: ${String(e)}`);
            fault = { type: 'pass' };
          }
          proxy.log.push({ method: r.method, path: r.path, bytes: r.bytes, onConnection: r.onConnection, index: r.index, fault: fault.type });
          current = { info, total: r.bytes, sent: 0, fault };
          if (fault.type === 'reset') {
            client.resetAndDestroy();
            upstream.destroy();
            return;
          }
          if (fault.type === 'black-hole') {
            // Swallow everything from now on; the client waits until it gives up.
            held = true;
            pending = Buffer.alloc(0);
            client.removeAllListeners('data');
            client.on('data', () => {});
            return;
          }
          reply = { fault, seen: 0, req: r };
        }
        if (current.fault.type === 'answer') {
          const c = current;
          const take = Math.min(c.total - c.sent, pending.length);
          pending = pending.subarray(take);
          c.sent += take;
          proxy.bytes.up += take;
          if (c.sent < c.total) return;
          current = undefined;
          const f = c.fault as Extract<RequestFault, { type: 'answer' }>;
          const body = JSON.stringify({ error: f.status === 429 ? 'too-many-requests' : 'unavailable', detail: 'injected by the fault proxy' });
          const head = [
            `HTTP/1.1 ${f.status} ${f.status === 429 ? 'Too Many Requests' : 'Service Unavailable'}`,
            'content-type: application/json',
            'access-control-allow-origin: *',
            'access-control-expose-headers: Retry-After, Date',
            `content-length: ${Buffer.byteLength(body)}`,
            ...Object.entries(f.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
          ];
          const out = `${head.join('\r\n')}\r\n\r\n${body}`;
          proxy.bytes.down += Buffer.byteLength(out);
          client.write(out);
          continue;
        }
        if (pending.length === 0) return;
        const c = current;
        const want = c.total - c.sent;
        let take = Math.min(want, pending.length);
        if (c.fault.type === 'cut-request') take = Math.min(take, Math.max(0, c.fault.at - c.sent));
        const part = pending.subarray(0, take);
        pending = pending.subarray(take);
        c.sent += take;
        proxy.bytes.up += take;
        if (c.fault.type === 'cut-request' && c.sent >= c.fault.at) {
          // Let the target read what it was given before the connection drops.
          upstream.write(part, () => setTimeout(kill, 20));
          held = true;
          return;
        }
        upstream.write(part);
        if (c.sent >= c.total) current = undefined;
      }
    };
    client.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      feed();
    });
  };

  const server: Server = createServer(onClient);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  proxy.port = typeof a === 'object' && a ? a.port : 0;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return proxy;
};
