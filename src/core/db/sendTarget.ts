/**
 * What the service worker needs to send a product's sessions without any page open: kept in
 * the product database's `meta` store by the agent, read by the service worker.
 */
import { getMeta, putMeta, type FerryDatabase } from './repository.js';

export interface StoredSendTarget {
  url: string;
  ingestKey: string;
  product: string;
  /** Undefined when every application of the product is sent (sendAllApplications). */
  application?: string;
  purge: boolean;
  /** Automatic sending is on and consent (if required) was given. */
  autoSend: boolean;
}

const KEY = 'sendTarget';

export const saveSendTarget = (db: FerryDatabase, t: StoredSendTarget): Promise<void> => putMeta(db, KEY, t);
export const loadSendTarget = (db: FerryDatabase): Promise<StoredSendTarget | undefined> => getMeta<StoredSendTarget>(db, KEY);
