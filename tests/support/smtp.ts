/** A real SMTP peer for tests (the `smtp-server` package) on 127.0.0.1, keeping every message. */

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuse the next messages with a 451 (a temporary failure). */
  failNext(count: number): void;
  close(): Promise<void>;
}

export const startSmtp = async (): Promise<TestSmtp> => {
  const messages: ReceivedMail[] = [];
  let failures = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 100 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = Object.assign(new Error('try again later'), { responseCode: 451 });
          callback(err);
          return;
        }
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages,
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

/** The decoded bytes of the first base64 attachment in a raw MIME message, with its file name. */
export const firstAttachment = (raw: string): { filename: string; content: Buffer } | undefined => {
  const m = /Content-Disposition: attachment;\s*filename=("?)([^"\r\n;]+)\1[\s\S]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+?)(?:\r\n--)/i.exec(raw);
  if (!m) return undefined;
  return { filename: m[2], content: Buffer.from(m[3].replace(/\s+/g, ''), 'base64') };
};

/** A header of a raw message, unfolded, with RFC 2047 encoded words decoded. */
export const header = (raw: string, name: string): string | undefined => {
  const head = raw.split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (line === undefined) return undefined;
  const value = line.slice(name.length + 1).trim();
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
};
