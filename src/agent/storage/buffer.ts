/**
 * Messages waiting for IndexedDB, one queue per severity. When the buffer is full the oldest
 * message of the least severe level present goes (or the newcomer, when it is the least severe),
 * so errors survive a flood of verbose messages, and every call stays O(1) however full it is.
 */
import type { PendingMessage } from '../../shared/message.js';
import type { Severity } from '../../shared/severity.js';

/** Least severe first: the order in which levels give way (a queue's index is its level's place here). */
const GIVE_WAY: readonly Severity[] = ['verbose', 'information', 'warning', 'error', 'critical'];
const LEVEL: Record<Severity, number> = { verbose: 0, information: 1, warning: 2, error: 3, critical: 4 };

interface Queue {
  items: PendingMessage[];
  /** Items before `head` were dropped. */
  head: number;
}

export interface MessageBuffer {
  readonly size: number;
  /** Adds `m`; when full, drops one message and returns false (the newcomer or an older, less severe one). */
  push(m: PendingMessage, max: number): boolean;
  /** Takes every buffered message, in sequence order, leaving the buffer empty. */
  takeAll(): PendingMessage[];
}

export const createMessageBuffer = (): MessageBuffer => {
  const queues: Queue[] = GIVE_WAY.map(() => ({ items: [], head: 0 }));
  let size = 0;

  const live = (q: Queue): number => q.items.length - q.head;

  return {
    get size() {
      return size;
    },
    push(m, max) {
      const level = LEVEL[m.severity];
      const incoming = queues[level];
      if (size < max) {
        incoming.items.push(m);
        size++;
        return true;
      }
      for (let l = 0; l < level; l++) {
        const q = queues[l];
        if (live(q) > 0) {
          q.head++;
          incoming.items.push(m);
          return false;
        }
      }
      return false;
    },
    takeAll() {
      const parts: PendingMessage[][] = [];
      for (const q of queues) {
        if (live(q) > 0) parts.push(q.head ? q.items.slice(q.head) : q.items);
        q.items = [];
        q.head = 0;
      }
      size = 0;
      if (parts.length <= 1) return parts[0] ?? [];
      // Each queue is in sequence order: a k-way merge (k ≤ 5) restores the global order in O(n).
      const out: PendingMessage[] = new Array(parts.reduce((n, p) => n + p.length, 0));
      const at = parts.map(() => 0);
      for (let i = 0; i < out.length; i++) {
        let best = -1;
        for (let p = 0; p < parts.length; p++) if (at[p] < parts[p].length && (best < 0 || parts[p][at[p]].seq < parts[best][at[best]].seq)) best = p;
        out[i] = parts[best][at[best]++];
      }
      return out;
    },
  };
};
