import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sha256 } from '../hash.js';
import { nodeSha256 } from './hash-node.js';

describe('nodeSha256', () => {
  it('gives the same digest as the portable sha256 for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(nodeSha256(bytes)).toEqual(sha256(bytes));
      }),
    );
  });
});
