/** The email relay of `POST /packages/email`: nodemailer over the SMTP server in the config. */
import nodemailer from 'nodemailer';
import { type PackageManifest, packageFileName } from '../shared/package-format.js';
import { worstSeverity } from '../shared/severity.js';
import type { SessionSummary } from '../shared/summary.js';
import type { EmailConfig } from './config.js';

export interface Mailer {
  /** Sends the package; resolves with the SMTP message id. */
  sendPackage(m: { to: readonly string[]; manifest: PackageManifest; zip: Buffer; packageId: string }): Promise<string>;
  close(): void;
}

const EMAIL_RE = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

export const packageSubject = (m: PackageManifest): string => {
  const apps = [...new Set(m.sessions.map((s) => s.application))];
  const errors = m.sessions.reduce((n, s) => n + s.counts.error + s.counts.critical, 0);
  const crashed = m.sessions.filter((s) => s.status === 'crashed').length;
  const parts = [`${m.sessions.length} session${m.sessions.length === 1 ? '' : 's'}`];
  if (errors) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (crashed) parts.push(`${crashed} crashed`);
  const about = m.description ? ` — ${m.description.replace(/\s+/g, ' ').trim().slice(0, 60)}` : '';
  return `[Ferry] ${m.product} ${apps.slice(0, 3).join(', ')}${apps.length > 3 ? '…' : ''}: ${parts.join(', ')}${about}`;
};

/** A session's environment, user and context tags, as one indented line (empty when it has none). */
const contextLine = (s: SessionSummary): string => {
  const parts: string[] = [];
  if (s.environment) parts.push(`environment ${s.environment}`);
  if (s.user) parts.push(`user ${s.user.id}${s.user.name ? ` (${s.user.name})` : ''}`);
  if (s.context)
    parts.push(
      `context ${Object.entries(s.context)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  return parts.length ? `\n  ${parts.join('; ')}` : '';
};

export const packageBody = (m: PackageManifest, packageId: string): string => {
  const lines = [
    `A Ferry package for product "${m.product}" was sent to the collector.`,
    '',
    m.description ? `Description:\n${m.description}\n` : 'No description was given.\n',
    m.replyTo ? `Reply to: ${m.replyTo}` : 'No reply-to address was given.',
    `Created: ${new Date(m.created).toISOString()} (sender's clock)`,
    `Creator: Ferry agent ${m.creator.agentVersion}${m.creator.application ? `, ${m.creator.application} ${m.creator.version ?? ''}` : ''}`,
    `User agent: ${m.creator.userAgent}`,
    `Criteria: ${m.criteria.join(', ') || '(none)'}`,
    `Package SHA-256: ${packageId}`,
    '',
    'Sessions:',
  ];
  for (const s of m.sessions) {
    const c = s.counts;
    lines.push(
      `- ${s.id}  ${s.application} ${s.version}  ${s.status}  started ${new Date(s.startedAt).toISOString()}` +
        `  worst: ${worstSeverity(c) ?? 'none'}  (critical ${c.critical}, error ${c.error}, warning ${c.warning}, information ${c.information}, verbose ${c.verbose})` +
        `\n  ${s.url}${contextLine(s)}`,
    );
  }
  lines.push('', 'Open the attached .ferry.zip in the Ferry viewer, or with any zip tool.');
  return lines.join('\n');
};

export const createMailer = (cfg: EmailConfig): Mailer => {
  const transport = nodemailer.createTransport({
    host: cfg.smtp.host,
    port: cfg.smtp.port,
    secure: cfg.smtp.secure,
    ...(cfg.smtp.user !== undefined ? { auth: { user: cfg.smtp.user, pass: cfg.smtp.pass ?? '' } } : {}),
  });
  return {
    async sendPackage({ to, manifest, zip, packageId }) {
      const app = manifest.creator.application ?? manifest.sessions[0]?.application ?? 'app';
      const info = await transport.sendMail({
        from: cfg.from,
        to: [...to],
        // Only a plain address: the value comes from the package, so no display names or lists.
        ...(manifest.replyTo && EMAIL_RE.test(manifest.replyTo) ? { replyTo: manifest.replyTo } : {}),
        subject: packageSubject(manifest),
        text: packageBody(manifest, packageId),
        attachments: [
          {
            filename: packageFileName(manifest.product, app, manifest.created, manifest.sessions.length),
            content: zip,
            contentType: 'application/zip',
          },
        ],
      });
      return String(info.messageId);
    },
    close: () => transport.close(),
  };
};
