/**
 * The `meta` store: one record per key, each with one meaning. `consent` is the only copy of the
 * user's answer (every tab and the service worker read it); `sendTarget` is what the service
 * worker needs to send without a page; `instance` names this database; `consentPrompt` counts the
 * times the consent question was shown (written by whichever tab shows it).
 */
import type { FerryDatabase } from './open.js';

export interface Consent {
  granted: boolean;
  at: number;
}

export interface SendTarget {
  url: string;
  ingestKey: string;
  product: string;
  /** Undefined when every application of the product is sent (sendAllApplications). */
  application?: string;
  purge: boolean;
  /** The autoSendSessions option; consent is read from `consent`, never copied here. */
  autoSend: boolean;
  /** consent.required: nothing goes automatically until `consent` says granted. */
  consentRequired: boolean;
}

export interface Instance {
  id: string;
  createdAt: number;
}

/** How often the consent question was shown (`consent.promptLimit` counts across reloads and tabs). */
export interface ConsentPrompt {
  shown: number;
  at: number;
}

interface MetaValues {
  consent: Consent;
  consentPrompt: ConsentPrompt;
  sendTarget: SendTarget;
  instance: Instance;
}
type MetaKey = keyof MetaValues;

export const getMeta = async <K extends MetaKey>(db: FerryDatabase, key: K): Promise<MetaValues[K] | undefined> =>
  (await db.get('meta', key)) as MetaValues[K] | undefined;

export const putMeta = async <K extends MetaKey>(db: FerryDatabase, key: K, value: MetaValues[K]): Promise<void> => {
  await db.put('meta', value, key);
};

/** Whether automatic sending may run now: configured on, and consented where consent is required. */
export const autoSendAllowed = (target: Pick<SendTarget, 'autoSend' | 'consentRequired'>, consent: Consent | undefined): boolean =>
  target.autoSend && (!target.consentRequired || consent?.granted === true);
