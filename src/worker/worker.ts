// Placeholder until the worker issue: the module worker that compresses and packages sessions.
export {};
