// @provenant/core/node: the node:crypto Ed25519 backend. Kept out of the main
// entry so @provenant/core stays browser-safe (DESIGN §2).
export { nodeBackend } from './ed25519-node.js';
export { nodeSha256 } from './hash-node.js';
