// The issuer's log: derived keys, receipts, the tree over stored subtrees,
// the group-committing sequencer and the public log endpoints (DESIGN §6).
export * from './errors.js';
export * from './keys.js';
export * from './receipts.js';
export * from './tree.js';
export * from './sequencer.js';
export { logRoutes, MAX_COSIGNATURES, MAX_ENTRIES_PAGE, type LogRouteDeps } from './routes.js';
