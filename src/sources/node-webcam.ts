import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Observable } from '../rx.js';
import { DepthVideoError, errorText } from '../errors.js';
import { decodeImage } from '../preview/photo.js';
import type { VideoFrame } from '../types.js';
import type { FrameSource, SourceInfo } from './ffmpeg-source.js';

/**
 * The helper program node-webcam shells out to for each picture. It takes one
 * still per process start, so this backend reaches a few frames per second at
 * best (expected 1-5 fps with fswebcam at 640x480; not measured on the build
 * machine, which has neither a camera nor fswebcam). It exists for systems
 * where ffmpeg cannot open the camera.
 */
export function nodeWebcamHelper(platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'win32') return null; // node-webcam ships CommandCam.exe itself
  return platform === 'darwin' ? 'imagesnap' : 'fswebcam';
}

function onPath(exe: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, exe)));
}

interface NodeWebcamInstance {
  capture(location: string, cb: (err: Error | null, data: unknown) => void): void;
}
interface NodeWebcamModule {
  create(opts: Record<string, unknown>): NodeWebcamInstance;
}

export interface NodeWebcamOptions {
  readonly device?: string;
  readonly size?: { readonly width: number; readonly height: number };
  /** Stills alive at once (taken, not yet released); no still is taken beyond it (default 32; sync runs cap it lower). */
  readonly maxInFlight?: number;
}

/** A camera through node-webcam (still after still), decoded by ffmpeg. */
export async function nodeWebcamSource(opts: NodeWebcamOptions = {}): Promise<FrameSource> {
  const helper = nodeWebcamHelper();
  if (helper && !onPath(helper)) {
    throw new DepthVideoError('WEBCAM', `--webcam-backend node-webcam needs ${helper}, which is not installed: install it (${helper === 'fswebcam' ? 'apt-get install fswebcam' : 'brew install imagesnap'}) or use --webcam-backend ffmpeg`);
  }
  let mod: NodeWebcamModule;
  try {
    mod = createRequire(import.meta.url)('node-webcam') as NodeWebcamModule;
  } catch (e) {
    throw new DepthVideoError('WEBCAM', `--webcam-backend node-webcam: the optional package node-webcam is not installed (${errorText(e)}): run npm install node-webcam, or use --webcam-backend ffmpeg`);
  }
  const size = opts.size ?? { width: 640, height: 480 };
  const cam = mod.create({ width: size.width, height: size.height, quality: 90, frames: 1, delay: 0, saveShots: false, output: 'jpeg', device: opts.device ?? false, callbackReturn: 'location', verbose: false });
  const label = `camera ${opts.device ?? 'default'} (node-webcam)`;
  // A private folder: a predictable /tmp name could be a planted symlink.
  const shotDir = await mkdtemp(join(tmpdir(), 'depth-video-shot-'));
  const shotPath = join(shotDir, 'shot');
  let stopped = false;
  let framesRead = 0;
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 32);
  let cap = maxInFlight;
  let alive = 0;
  // Resolved when a still is released or the cap rises: the loop may take the next one.
  let wake: (() => void) | null = null;
  const nudge = () => { wake?.(); wake = null; };
  let resolveInfo!: (i: SourceInfo) => void;
  let rejectInfo!: (e: unknown) => void;
  const info = new Promise<SourceInfo>((res, rej) => { resolveInfo = res; rejectInfo = rej; });
  info.catch(() => undefined);

  const shoot = async (): Promise<Buffer> => {
    // An old shot must never come back as a new frame.
    await rm(`${shotPath}.jpg`, { force: true });
    await rm(shotPath, { force: true });
    return shootNow();
  };
  const shootNow = () => new Promise<Buffer>((resolve, reject) => {
    cam.capture(shotPath, (err) => {
      if (err) { reject(new DepthVideoError('WEBCAM', `${label}: ${helper ?? 'CommandCam'} failed (${errorText(err)})`)); return; }
      readFile(`${shotPath}.jpg`).then(resolve, () => readFile(shotPath).then(resolve, reject));
    });
  });

  const frames$ = new Observable<VideoFrame>((sub) => {
    const t0 = performance.now();
    (async () => {
      while (!stopped && !sub.closed) {
        // Like the ffmpeg sources: a still is only taken while a slot is free,
        // so a model slower than the camera holds memory and lag in check.
        while (alive >= cap && !stopped && !sub.closed) await new Promise<void>((r) => { wake = r; });
        if (stopped || sub.closed) break;
        const jpeg = await shoot();
        const img = await decodeImage(jpeg, 4096).catch((e: unknown) => {
          throw new DepthVideoError('WEBCAM', `${label}: the camera returned a picture that cannot be decoded (${errorText(e)}); check the device`);
        });
        const now = performance.now();
        if (framesRead === 0) resolveInfo({ label, width: img.width, height: img.height, frameRate: null, timeBase: { num: 1, den: 1000 }, live: true });
        let released = false;
        alive++;
        sub.next({
          index: framesRead++, pts: Math.round(now - t0) / 1000, width: img.width, height: img.height, data: img.data, captureTime: now,
          release: () => { if (released) return; released = true; alive--; nudge(); },
        });
      }
      sub.complete();
    })().catch((e: unknown) => { rejectInfo(e); sub.error(e); }).finally(() => { void rm(shotDir, { recursive: true, force: true }); });
    return () => { stopped = true; nudge(); };
  });

  return {
    frames$,
    info,
    stop: () => { stopped = true; nudge(); },
    limitInFlight: (n: number | null) => {
      cap = n === null ? maxInFlight : Math.max(1, Math.min(n, maxInFlight));
      nudge();
    },
    damage: [],
    get framesRead() { return framesRead; },
  };
}
