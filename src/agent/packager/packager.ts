/**
 * The packager (loaded on first use, never part of the core bundle): picks sessions by the Loupe
 * criteria, has the worker build the package straight from IndexedDB, saves it to the chosen
 * destination, and marks what was packaged. Nothing is marked unless the package was saved.
 */
import { proxy } from 'comlink';
import { checkCriteria, matchesCriteria } from '../../core/package/criteria.js';
import { encodeLine } from '../../shared/message.js';
import { PACKAGE_LIMITS, type PackageCreator, packageFileName } from '../../shared/package-format.js';
import type { SessionSummary } from '../../shared/summary.js';
import { AGENT_VERSION } from '../../shared/version.js';
import type { BuildProgress, InlineSession, PackageJob, SelectionQuery } from '../../shared/worker-protocol.js';
import { checkAllowed, type DestinationEnv, destinationKind, prepareDestination } from './destinations/index.js';
import type { PackagerHost } from './host.js';
import type { PackagerEvents, PackagerPhase, PackagerProgress, PreviewOptions, SendOptions, SendResult } from './types.js';
import { acquireWorker, defaultWorkerUrl, type WorkerLease } from './workerClient.js';

export { PackagerError } from './destinations/index.js';

export interface PackagerContext {
  agent: PackagerHost;
  /** URL of the agent script, next to which ferry-worker.js is found by default. */
  scriptUrl?: string;
  emit<K extends keyof PackagerEvents>(event: K, payload: PackagerEvents[K]): void;
  destinations?: DestinationEnv;
}

const optionalString = (v: unknown, name: string, max: number): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new TypeError(`${name}: must be a string of at most ${max} characters`);
  return v;
};

const checkPreview = (o: PreviewOptions) => {
  if (typeof o !== 'object' || o === null) throw new TypeError('packager: options must be an object');
  return {
    criteria: checkCriteria(o.criteria),
    application: optionalString(o.application, 'application', 100),
  };
};

/** `<application>` of the file name: the filter, else the one application present, else all. */
const applicationPart = (sessions: readonly SessionSummary[], filter: string | undefined): string => {
  if (filter !== undefined) return filter;
  const apps = new Set(sessions.map((s) => s.application));
  return apps.size === 1 ? [...apps][0] : 'all-apps';
};

const memoryNdjson = (agent: PackagerHost): string => {
  const idJson = JSON.stringify(agent.sessionId());
  let text = '';
  for (const m of agent.memoryMessages()) text += encodeLine(idJson, m);
  return text;
};

interface Chosen {
  query: SelectionQuery;
  sessions: SessionSummary[];
  inline?: InlineSession[];
}

const choose = async (agent: PackagerHost, lease: WorkerLease, o: ReturnType<typeof checkPreview>): Promise<Chosen> => {
  await agent.ready;
  const opts = agent.options();
  const query: SelectionQuery = { product: opts.product, application: o.application, criteria: o.criteria, activeSessionId: agent.sessionId() };
  // The active session goes "up to the moment of packaging": what is buffered is stored first.
  if (o.criteria.includes('active')) await agent.flush();
  if (agent.database()) {
    // Sessions of tabs that died since are crashed, not running: they count as completed.
    await agent.checkCrashedSessions();
    return { query, sessions: await lease.call((api) => api.selectSessions(query)) };
  }
  // No IndexedDB in this page: only the current session exists, in memory.
  const summary = agent.summary();
  if (!matchesCriteria(summary, o.criteria, query)) return { query, sessions: [] };
  return { query, sessions: [summary], inline: [{ summary, text: memoryNdjson(agent) }] };
};

const workerUrl = (ctx: PackagerContext): string => ctx.agent.options().workerUrl ?? defaultWorkerUrl();

/** The sessions `send` would package now. */
export const preview = async (ctx: PackagerContext, options: PreviewOptions): Promise<SessionSummary[]> => {
  const o = checkPreview(options);
  const lease = await acquireWorker(workerUrl(ctx));
  try {
    return (await choose(ctx.agent, lease, o)).sessions;
  } finally {
    lease.release();
  }
};

const isAbort = (e: unknown): boolean => (e as { name?: unknown } | null)?.name === 'AbortError';

export const send = async (ctx: PackagerContext, options: SendOptions): Promise<SendResult> => {
  const o = checkPreview(options);
  const kind = destinationKind(options.destination);
  const description = optionalString(options.description, 'description', PACKAGE_LIMITS.maxDescriptionLength);
  const replyTo = optionalString(options.replyTo, 'replyTo', PACKAGE_LIMITS.maxReplyToLength);
  const signal = options.signal;
  const jobId = crypto.randomUUID();
  const agent = ctx.agent;
  const opts = agent.options();
  checkAllowed(kind, opts.packager);

  const progress = (phase: PackagerPhase, p: BuildProgress): void => {
    const event: PackagerProgress = { ...p, jobId, phase };
    try {
      options.onProgress?.(event);
    } catch {
      // The app's handler failing must not fail the package.
    }
    ctx.emit('progress', event);
  };
  const none: BuildProgress = { sessionsDone: 0, sessionsTotal: 0, bytesDone: 0, bytesTotal: 0, packageBytes: 0 };
  const outcome = (status: SendResult['status'], destination = kind): SendResult => ({
    status,
    destination,
    sessions: [],
    bytes: 0,
    rawBytes: 0,
    problems: [],
    skipped: 0,
    marked: [],
  });

  if (signal?.aborted) return outcome('cancelled');
  progress('selecting', none);
  const lease = await acquireWorker(workerUrl(ctx));
  const onAbort = (): void => void lease.call((api) => api.cancel(jobId)).catch(() => {});
  signal?.addEventListener('abort', onAbort);
  try {
    const chosen = await choose(agent, lease, o);
    if (signal?.aborted) return outcome('cancelled');
    const total = chosen.sessions.length;
    if (total === 0) {
      const empty = outcome('empty');
      progress('done', none);
      return empty;
    }
    const created = Date.now();
    const kept = Math.min(total, PACKAGE_LIMITS.maxSessions);
    const suggested = packageFileName(opts.product, applicationPart(chosen.sessions, o.application), created, kept);
    const { url, ingestKey } = opts.server;
    const destination = await prepareDestination(options.destination, suggested, {
      objectUrl: (blob, lifetimeMs) => lease.call((api) => api.objectUrl(blob, lifetimeMs)),
      ...(url && ingestKey ? { collector: { url, ingestKey } } : {}),
      ...ctx.destinations,
    });
    if (!destination || signal?.aborted) return outcome('cancelled');

    const current = agent.summary();
    const creator: PackageCreator = {
      agentVersion: AGENT_VERSION,
      // As this session's summary has it: after the beforeSummary hook.
      userAgent: current.userAgent,
      application: opts.application,
      version: opts.version,
    };
    if (current.environment !== undefined) creator.environment = current.environment;
    if (current.installationId !== undefined) creator.installationId = current.installationId;
    const job: PackageJob = {
      ...chosen.query,
      jobId,
      sessionIds: chosen.sessions.map((s) => s.id),
      created,
      creator,
      description,
      replyTo,
      inline: chosen.inline,
      memoryOnly: !agent.database(),
      engine: options.engine,
    };
    let building = true;
    const built = await lease.call((api) =>
      api.buildPackage(
        job,
        proxy((p: BuildProgress) => void (building && progress('packaging', p))),
      ),
    );
    building = false;
    if (signal?.aborted) return outcome('cancelled');
    const done: BuildProgress = {
      ...none,
      sessionsDone: built.sessions.length,
      sessionsTotal: built.sessions.length,
      bytesDone: built.rawBytes,
      bytesTotal: built.rawBytes,
      packageBytes: built.blob.size,
    };
    progress('saving', done);
    const saved = await destination.save(built.blob, suggested, built.sessions, signal);
    // Stored by the collector: sent as well as packaged (an emailed package is only packaged).
    const sent = saved.receipt?.kind === 'server';
    const packaged = built.sessions.map((s) => ({ id: s.id, lastSeq: s.lastSeq, status: s.status }));
    const marked = job.memoryOnly ? [] : await lease.call((api) => api.markPackaged(opts.product, packaged, Date.now(), sent));
    const result: SendResult = {
      status: 'sent',
      destination: destination.kind,
      fileName: saved.name,
      sessions: built.sessions,
      bytes: built.blob.size,
      rawBytes: built.rawBytes,
      problems: built.problems,
      skipped: built.skipped,
      marked,
      blob: built.blob,
      ...(saved.receipt ? { receipt: saved.receipt } : {}),
    };
    progress('done', done);
    ctx.emit('sent', result);
    return result;
  } catch (e) {
    if (isAbort(e)) return outcome('cancelled');
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    lease.release();
  }
};
