// The verdict cues (issue 13): each verdict sounds and vibrates differently,
// so a clerk looking at the carton tells them apart.
import { describe, expect, it } from '@jest/globals';
import { CUES } from './feedback.js';

describe('verdict cues', () => {
  it('give accept, quarantine, reject and not-read distinct tones and vibrations', () => {
    const tones = Object.values(CUES).map((c) => JSON.stringify(c.tones));
    const vibes = Object.values(CUES).map((c) => JSON.stringify(c.vibrate));
    expect(new Set(tones).size).toBe(4);
    expect(new Set(vibes).size).toBe(4);
  });

  it('rise in urgency: reject longest, accept shortest', () => {
    const length = (c: keyof typeof CUES) => CUES[c].tones.reduce((n, [, ms]) => n + ms, 0);
    expect(length('accept')).toBeLessThan(length('quarantine'));
    expect(length('quarantine')).toBeLessThan(length('reject'));
  });
});
