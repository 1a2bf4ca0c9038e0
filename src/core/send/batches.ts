/**
 * Summary batches that the collector takes: at most `maxCount` summaries and `maxBytes` of body
 * each (LIMITS in shared/protocol.ts). Summaries are serialised once; the body is built from
 * those strings, so what was measured is exactly what is sent.
 */
import { LIMITS } from '../../shared/protocol.js';

export interface BatchLimits {
  maxCount: number;
  maxBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxCount: LIMITS.maxSummariesPerRequest, maxBytes: LIMITS.maxSummariesBodyBytes };

/** UTF-8 bytes of a string, as it goes over the wire. */
export const utf8Length = (s: string): number => new TextEncoder().encode(s).byteLength;

/** One summary as it goes into a body. */
export interface SerializedSummary {
  id: string;
  json: string;
  /** UTF-8 bytes of `json`. */
  bytes: number;
}

export const serializeSummary = (id: string, summary: unknown): SerializedSummary => {
  const json = JSON.stringify(summary);
  return { id, json, bytes: utf8Length(json) };
};

const head = (product: string, sentAt: number): string => `{"product":${JSON.stringify(product)},"sentAt":${sentAt},"sessions":[`;
const TAIL = ']}';

/** The request body of a batch (a `SummariesRequest`, as JSON). */
export const summariesBody = (product: string, sentAt: number, batch: readonly SerializedSummary[]): string =>
  `${head(product, sentAt)}${batch.map((b) => b.json).join(',')}${TAIL}`;

/** Bytes of a body around its summaries: the envelope, with room for any `sentAt` up to year 9999. */
export const envelopeBytes = (product: string): number => utf8Length(head(product, 253_402_300_799_999)) + TAIL.length;

/**
 * Splits summaries, in order, into batches under both limits. A summary that does not fit a body
 * even alone (its fields are cut to the collector's limits, so only an unbounded new field could
 * make one) is returned apart, to be set aside rather than refused with every batch it joins.
 */
export const planBatches = <T extends SerializedSummary>(
  items: readonly T[],
  product: string,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): { batches: T[][]; tooLarge: T[] } => {
  const envelope = envelopeBytes(product);
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  let current: T[] = [];
  let bytes = envelope;
  for (const item of items) {
    if (envelope + item.bytes > limits.maxBytes) {
      tooLarge.push(item);
      continue;
    }
    const added = item.bytes + (current.length > 0 ? 1 : 0); // the comma between summaries
    if (current.length > 0 && (current.length >= limits.maxCount || bytes + added > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = envelope;
    }
    bytes += item.bytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
};
