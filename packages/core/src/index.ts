// @provenant/core public API. Pure: no I/O, no clock, no process.env.
export * from './bytes.js';
export * from './hash.js';
export * from './reasons.js';
