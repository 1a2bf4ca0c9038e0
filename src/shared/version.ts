/** The agent's version, sent in every summary and package manifest. */
export const AGENT_VERSION = '0.1.0';
