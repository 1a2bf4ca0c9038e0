/** Log severities, most severe first (the Loupe agent's order). */
export const SEVERITIES = ['critical', 'error', 'warning', 'information', 'verbose'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Per-severity message counts, as kept in every session summary. */
export type SeverityCounts = Record<Severity, number>;

const RANK: Record<Severity, number> = { critical: 4, error: 3, warning: 2, information: 1, verbose: 0 };

/** Higher is more severe. */
export const severityRank = (s: Severity): number => RANK[s];

export const isSeverity = (value: unknown): value is Severity => typeof value === 'string' && Object.hasOwn(RANK, value);

export const emptyCounts = (): SeverityCounts => ({ critical: 0, error: 0, warning: 0, information: 0, verbose: 0 });

/** The most severe level present in `counts`, or undefined when there are no messages. */
export const worstSeverity = (counts: SeverityCounts): Severity | undefined => SEVERITIES.find((s) => counts[s] > 0);
