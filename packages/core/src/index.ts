// @provenant/core public API. Pure: no I/O, no clock, no process.env.
export * from './bytes.js';
export * from './hash.js';
export * from './reasons.js';
export * from './jcs.js';
export * from './ed25519.js';
export * from './dsse.js';
export * from './merkle.js';
export * from './note.js';
export * from './records.js';
export * from './notices.js';
export * from './custody.js';
export * from './bundle.js';
export * from './verify.js';
export * from './verification-receipt.js';
export * from './key-registration.js';
export * from './epcis/index.js';
export * from './api/index.js';
