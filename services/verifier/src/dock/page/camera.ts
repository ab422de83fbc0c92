// Camera scanning (issue 13): the device camera through getUserMedia, frames
// decoded by zxing-wasm (GS1 DataMatrix, GS1-128, QR Digital Links). The
// WebAssembly comes from this service (GET /dock/zxing_reader.wasm, kept by
// the service worker for offline use), never from a CDN: the library's default
// locateFile points at one, so it is overridden. A decoded code goes into the
// scan field and is submitted like a scanner's Enter; in Offline mode it fills
// the offline form's scan field (the clerk then chooses the bundle file).
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import { CAMERA_FORMATS, scanOfDecoded } from './decoded.js';
import { byId } from './dom.js';
import { focusScan } from './modes.js';

/** Where the service serves the decoder (services/verifier/src/dock/index.ts). */
export const WASM_URL = '/dock/zxing_reader.wasm';

/** Where a decoded code goes: the scan field (verified at once) or the offline form's. */
export type CameraTarget = 'scan' | 'offline';

let prepared = false;
let stream: MediaStream | null = null;
let target: CameraTarget = 'scan';
let timer: ReturnType<typeof setTimeout> | undefined;

function prepare(): void {
  if (prepared) return;
  prepared = true;
  prepareZXingModule({
    overrides: {
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.wasm') ? new URL(WASM_URL, location.href).href : prefix + path,
    },
  });
}

function status(text: string): void {
  byId('camera-status').textContent = text;
}

/** Stops the camera and hides its panel. */
export function stopCamera(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  for (const t of stream?.getTracks() ?? []) t.stop();
  stream = null;
  const video = byId<HTMLVideoElement>('camera-video');
  video.srcObject = null;
  byId('camera').hidden = true;
  for (const id of ['camera-go', 'offline-camera']) byId(id).setAttribute('aria-expanded', 'false');
}

/** One frame of the video as ImageData (null before the first frame). */
function grab(video: HTMLVideoElement, canvas: HTMLCanvasElement): ImageData | null {
  const w = video.videoWidth;
  const hgt = video.videoHeight;
  if (!w || !hgt) return null;
  canvas.width = w;
  canvas.height = hgt;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, w, hgt);
  return ctx.getImageData(0, 0, w, hgt);
}

/** Puts a decoded code into the scan field and submits it, as a scanner's Enter does. */
function submit(scan: string): void {
  if (target === 'offline') {
    const field = byId<HTMLInputElement>('offline-scan');
    field.value = scan;
    byId('offline-scan-help').textContent =
      'Read by the camera. The bundle is checked against this code: a bundle for another product is rejected.';
    field.focus();
    return;
  }
  const field = byId<HTMLInputElement>('scan');
  field.value = scan;
  byId<HTMLFormElement>('scan-form').requestSubmit();
}

async function loop(video: HTMLVideoElement, canvas: HTMLCanvasElement): Promise<void> {
  if (!stream) return;
  try {
    const frame = grab(video, canvas);
    if (frame) {
      const [hit] = await readBarcodes(frame, {
        formats: [...CAMERA_FORMATS],
        tryHarder: true,
        maxNumberOfSymbols: 1,
        // The raw data: GS1 element strings with real 0x1D separators, not "(01)…" HRI.
        textMode: 'Plain',
      });
      if (hit && hit.isValid && stream) {
        stopCamera();
        submit(scanOfDecoded(hit.symbologyIdentifier, hit.text));
        return;
      }
    }
  } catch (err) {
    status(`The barcode reader failed: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (stream) timer = setTimeout(() => void loop(video, canvas), 120);
}

/** Opens the camera (the back one on a phone) and reads codes until one decodes. */
export async function startCamera(to: CameraTarget = 'scan'): Promise<void> {
  if (stream) return;
  target = to;
  const opener = byId(to === 'offline' ? 'offline-camera' : 'camera-go');
  if (!navigator.mediaDevices?.getUserMedia) {
    byId('camera').hidden = false;
    status('This browser offers no camera here (it needs https or localhost). Use the scanner.');
    return;
  }
  prepare();
  byId('camera').hidden = false;
  opener.setAttribute('aria-expanded', 'true');
  status('Starting the camera\u2026');
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: 'environment' } },
      audio: false,
    });
  } catch (err) {
    status(
      `No camera: ${err instanceof Error ? err.message : String(err)}. Allow the camera, or use the scanner.`,
    );
    opener.setAttribute('aria-expanded', 'false');
    return;
  }
  const video = byId<HTMLVideoElement>('camera-video');
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  status('Hold the barcode in the frame.');
  void loop(video, document.createElement('canvas'));
}

export function wireCamera(): void {
  byId('camera-go').addEventListener('click', () => void startCamera('scan'));
  byId('offline-camera').addEventListener('click', () => void startCamera('offline'));
  byId('camera-stop').addEventListener('click', () => {
    const back = target === 'offline' ? byId('offline-scan') : null;
    stopCamera();
    if (back) back.focus();
    else focusScan();
  });
}
