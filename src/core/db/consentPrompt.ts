// The count behind `consent.promptLimit` (meta `consentPrompt`), apart from meta.ts so that only the
// consent dialog's chunk carries it.
import type { ConsentPrompt } from './meta.js';
import type { FerryDatabase } from './open.js';

/** Counts one more showing of the consent question, in one transaction (two tabs asking at once both count); resolves with the new count. */
export const countConsentPrompt = async (db: FerryDatabase, now: number): Promise<number> => {
  const tx = db.transaction('meta', 'readwrite');
  const store = tx.objectStore('meta');
  const shown = (((await store.get('consentPrompt')) as ConsentPrompt | undefined)?.shown ?? 0) + 1;
  await store.put({ shown, at: now } satisfies ConsentPrompt, 'consentPrompt');
  await tx.done;
  return shown;
};
