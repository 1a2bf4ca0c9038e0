/**
 * The Ferry package file (DESIGN.md §5): a plain ZIP holding `manifest.json` and one
 * `sessions/<sessionId>.ndjson` entry (deflated) per session. Written by the browser packager,
 * read by the collector (`POST /api/v1/packages`) and by the viewer. No Node-only imports here:
 * the page, the worker and the service worker import this file too.
 */
import type { SessionSummary } from './summary.js';

/** Bumped only for changes an older reader cannot understand. */
export const PACKAGE_FORMAT_VERSION = 1;

/** `manifest.json` `format` value, so a reader can tell a Ferry package from any other zip. */
export const PACKAGE_FORMAT = 'ferry-package';

export const MANIFEST_ENTRY = 'manifest.json';
export const SESSIONS_DIR = 'sessions/';
export const SESSION_ENTRY_SUFFIX = '.ndjson';
export const PACKAGE_EXTENSION = '.ferry.zip';
export const PACKAGE_MEDIA_TYPE = 'application/zip';

/** Packager criteria (DESIGN.md §2); a session is included when any chosen criterion matches. */
export const PACKAGE_CRITERIA = ['completed', 'new', 'crashed', 'critical', 'error', 'warning', 'active'] as const;
export type PackageCriterion = (typeof PACKAGE_CRITERIA)[number];

export interface PackageCreator {
  /** Ferry agent version that built the package. */
  agentVersion: string;
  userAgent: string;
  /** The application that built it (its sessions may span the product's applications). */
  application?: string;
  version?: string;
  /** The packaging app's `environment` option. */
  environment?: string;
  /** The packaging installation (`meta.instance`); each session's own is in its summary. */
  installationId?: string;
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: number;
  product: string;
  /** Epoch ms, agent clock. */
  created: number;
  creator: PackageCreator;
  criteria: PackageCriterion[];
  /** What the user wrote in the report dialog. */
  description?: string;
  /** Where the user wants an answer (an email address, usually). */
  replyTo?: string;
  /**
   * Every session in the package; each has exactly one `sessions/<id>.ndjson` entry. A summary
   * carries its session's context (environment, installation id, user, context tags) as stored.
   */
  sessions: SessionSummary[];
}

/**
 * Limits a package must respect. The collector refuses anything larger; the packager should
 * split or refuse before building something the collector would refuse.
 */
export const PACKAGE_LIMITS = {
  maxSessions: 1000,
  /** Zip entries of any kind: the manifest, one per session, and a few directory entries. */
  maxEntries: 1010,
  /** Bytes of the zip file itself. */
  maxPackageBytes: 64 * 1024 * 1024,
  /** Decompressed bytes of `manifest.json`. */
  maxManifestBytes: 4 * 1024 * 1024,
  /** Decompressed bytes of one session's NDJSON. */
  maxSessionBytes: 64 * 1024 * 1024,
  /** Decompressed bytes of all entries together. */
  maxTotalBytes: 512 * 1024 * 1024,
  maxDescriptionLength: 10_000,
  maxReplyToLength: 320,
} as const;

export const sessionEntryName = (sessionId: string): string => `${SESSIONS_DIR}${sessionId}${SESSION_ENTRY_SUFFIX}`;

/** The session id of a `sessions/<id>.ndjson` entry name, or undefined for any other name. */
export const sessionIdOfEntry = (name: string): string | undefined => {
  if (!name.startsWith(SESSIONS_DIR) || !name.endsWith(SESSION_ENTRY_SUFFIX)) return undefined;
  const id = name.slice(SESSIONS_DIR.length, -SESSION_ENTRY_SUFFIX.length);
  return id !== '' && !id.includes('/') ? id : undefined;
};

const safePart = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'unknown';
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `<product>-<application>-<yyyyMMdd-HHmmss>-<N>sessions.ferry.zip`, in the local time of `created`. */
export const packageFileName = (product: string, application: string, created: number, sessionCount: number): string => {
  const d = new Date(created);
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return `${safePart(product)}-${safePart(application)}-${stamp}-${sessionCount}sessions${PACKAGE_EXTENSION}`;
};

// ---------------------------------------------------------------------------------------------
// Packager additions (issue 4). Nothing above this line changed.

/** A stored chunk the packager left out of a package (or detail blob) because it could not be used. */
export interface PackageProblem {
  sessionId: string;
  /** The chunk's key: the first sequence number it was stored under. */
  chunkSeq: number;
  /** Why, in a sentence (e.g. "its text is number, not a string"). */
  reason: string;
}

/**
 * `manifest.json` as the browser packager writes it: the manifest plus, only when there were
 * any, the chunks it had to leave out. The collector must accept (and may ignore) `problems`.
 */
export interface BuiltPackageManifest extends PackageManifest {
  problems?: PackageProblem[];
}

/**
 * What the collector keeps of `problems`: the first `maxStored` entries, each reason cut to
 * `maxReasonLength` characters, and the count of the rest. Too many problems never refuse a
 * package (the ones from a damaged store are those support needs most); the manifest's own byte
 * limit bounds the list.
 */
export const PROBLEM_LIMITS = {
  maxStored: 1000,
  maxReasonLength: 500,
  maxSessionIdLength: 100,
} as const;
