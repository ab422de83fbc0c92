// Sound and vibration for a verdict (issue 13): a clerk looking at the carton,
// not the screen, still tells accept from quarantine from reject. Web Audio
// tones (no audio files), navigator.vibrate where the device has it, and a
// mute toggle kept in localStorage. Each cue is recorded on
// `window.__dockCues` so a browser test can check which one played.

export type Cue = 'accept' | 'quarantine' | 'reject' | 'notread';

/** Tones per cue: [frequency Hz, duration ms] in sequence; vibration pattern in ms. */
export const CUES: Record<Cue, { tones: [number, number][]; vibrate: number[] }> = {
  // one short high beep: all good
  accept: { tones: [[1320, 120]], vibrate: [80] },
  // two mid beeps: set aside
  quarantine: {
    tones: [
      [660, 160],
      [660, 160],
    ],
    vibrate: [150, 100, 150],
  },
  // three low falling buzzes: stop
  reject: {
    tones: [
      [440, 220],
      [330, 220],
      [220, 380],
    ],
    vibrate: [300, 120, 300, 120, 300],
  },
  // a low double blip: scan again
  notread: {
    tones: [
      [250, 90],
      [250, 90],
    ],
    vibrate: [60, 60, 60],
  },
};

const MUTE_KEY = 'provenant.dock.muted';

export function isMuted(): boolean {
  try {
    return localStorage.getItem(MUTE_KEY) === '1';
  } catch {
    return false;
  }
}

export function setMuted(muted: boolean): void {
  try {
    if (muted) localStorage.setItem(MUTE_KEY, '1');
    else localStorage.removeItem(MUTE_KEY);
  } catch {
    // Storage refused (private mode): the toggle lasts for this page only.
  }
}

let audio: AudioContext | null = null;

function context(): AudioContext | null {
  const Ctor =
    globalThis.AudioContext ??
    (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return null;
  audio ??= new Ctor();
  if (audio.state === 'suspended') void audio.resume().catch(() => undefined);
  return audio;
}

function play(tones: [number, number][]): void {
  const ctx = context();
  if (!ctx) return;
  let t = ctx.currentTime + 0.01;
  for (const [freq, ms] of tones) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + ms / 1000);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + ms / 1000 + 0.02);
    t += ms / 1000 + 0.06;
  }
}

/** Plays the cue (unless muted) and records it for tests. */
export function feedback(cue: Cue): void {
  const w = globalThis as unknown as { __dockCues?: { cue: Cue; muted: boolean }[] };
  const muted = isMuted();
  (w.__dockCues ??= []).push({ cue, muted });
  if (muted) return;
  try {
    play(CUES[cue].tones);
  } catch {
    // No audio device: the screen still says it.
  }
  if (typeof navigator.vibrate === 'function') navigator.vibrate(CUES[cue].vibrate);
}
