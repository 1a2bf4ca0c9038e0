/**
 * What the collector indexes of one session's detail: its exception groups (with this session's
 * hits, first and last time) and a search document per message. Pure: the store writes it.
 */
import type { LogMessage } from '../../shared/message.js';
import { severityRank } from '../../shared/severity.js';
import { fingerprintOf } from './fingerprint.js';
import { terms } from './search-terms.js';

/** Characters of a message kept beside the search index, for the result list. */
export const EXCERPT_LENGTH = 300;
const MAX_STACK = 4000;
const NUL_RE = /\0/g;

export interface GroupHit {
  id: string;
  name: string;
  title: string;
  worst: number;
  hits: number;
  /** Corrected (server-clock) times of the first and last hit in this session. */
  firstSeen: number;
  lastSeen: number;
  /** The first hit: the group's example when the group is new. */
  firstSeq: number;
  exampleText: string;
  exampleStack?: string;
}

export interface SearchDoc {
  seq: number;
  time: number;
  severity: number;
  category: string;
  /** Excerpt shown in results. */
  text: string;
  /** Space-separated terms (search-terms.ts). */
  terms: string;
}

export interface SessionIndex {
  sessionId: string;
  /** The detail blob this index was built from: the store writes it only while that is still the session's detail. */
  sha256: string;
  groups: GroupHit[];
  docs: SearchDoc[];
}

export const buildSessionIndex = (s: { id: string; product: string; clockOffsetMs: number; sha256: string }, messages: readonly LogMessage[]): SessionIndex => {
  const groups = new Map<string, GroupHit>();
  const docs: SearchDoc[] = [];
  for (const m of messages) {
    const time = m.time + s.clockOffsetMs;
    const rank = severityRank(m.severity);
    const fp = fingerprintOf(s.product, m);
    if (fp) {
      const g = groups.get(fp.id);
      if (g) {
        g.hits++;
        g.lastSeen = Math.max(g.lastSeen, time);
        g.firstSeen = Math.min(g.firstSeen, time);
        g.worst = Math.max(g.worst, rank);
      } else {
        const hit: GroupHit = {
          ...fp,
          worst: rank,
          hits: 1,
          firstSeen: time,
          lastSeen: time,
          firstSeq: m.seq,
          exampleText: m.text.slice(0, EXCERPT_LENGTH).replace(NUL_RE, ''),
        };
        if (m.exception?.stack) hit.exampleStack = m.exception.stack.slice(0, MAX_STACK).replace(NUL_RE, '');
        groups.set(fp.id, hit);
      }
    }
    const exception = m.exception ? ` ${m.exception.name} ${m.exception.message}` : '';
    docs.push({
      seq: m.seq,
      time,
      severity: rank,
      // PostgreSQL text cannot hold NUL; JSON can.
      category: m.category.replace(NUL_RE, ''),
      text: (m.exception && !m.text.includes(m.exception.message) ? `${m.text} (${m.exception.name}: ${m.exception.message})` : m.text)
        .slice(0, EXCERPT_LENGTH)
        .replace(NUL_RE, ''),
      terms: terms(`${m.category} ${m.text}${exception}`).join(' '),
    });
  }
  return { sessionId: s.id, sha256: s.sha256, groups: [...groups.values()], docs };
};
