/** The modes of `git/apply` (apply.ts); a module of its own so that the protocol (and the client) can import it alone. */
export const APPLY_MODES = ['ff', 'merge', 'uncommitted'] as const;
export type ApplyMode = (typeof APPLY_MODES)[number];
