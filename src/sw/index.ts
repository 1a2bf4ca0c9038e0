// Placeholder until the sender issue: Ferry's service-worker handlers for an app's own SW.
export const ferrySync = (): void => {};
