import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Observable } from '../rx.js';
import { DepthVideoError, errorText } from '../errors.js';
import { ffmpegPath } from '../ffmpeg/binary.js';
import type { VideoFrame } from '../types.js';
import { ffmpegSource, type FrameSource, type SourceDamage } from './ffmpeg-source.js';

/** The prefix that turns `--webcam` into an ffmpeg lavfi virtual camera (tests, demos, no hardware). */
export const LAVFI_PREFIX = 'lavfi:';

/** A documented virtual camera: moving colour test pattern at 640x360, 30 fps. */
export const TEST_WEBCAM = 'lavfi:testsrc2=size=640x360:rate=30';

export type WebcamPlatform = 'linux' | 'darwin' | 'win32';

export interface WebcamOptions {
  /** Device: /dev/video0 or 0 (Linux), an index or name (macOS), a name (Windows), or lavfi:<graph>. Default: the first camera. */
  readonly device?: string;
  readonly size?: { readonly width: number; readonly height: number };
  readonly fps?: number;
  /** Frames alive at once (see ffmpegSource; sync runs cap it lower): async runs keep dropped frames' pixels for the preview. */
  readonly maxInFlight?: number;
  /** For tests: pretend to be another platform when building arguments. */
  readonly platform?: WebcamPlatform;
}

export interface WebcamDevice {
  /** What to pass to --webcam. */
  readonly id: string;
  readonly name: string;
}

function currentPlatform(): WebcamPlatform {
  const p = process.platform;
  return p === 'darwin' || p === 'win32' ? p : 'linux';
}

/** Parses --webcam-size (WxH). */
export function parseSize(s: string): { width: number; height: number } {
  const m = /^(\d{1,5})x(\d{1,5})$/i.exec(s.trim());
  if (!m || Number(m[1]) < 2 || Number(m[2]) < 2) {
    throw new DepthVideoError('USAGE', `--webcam-size ${s}: give the size as WIDTHxHEIGHT, e.g. 1280x720`);
  }
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** ffmpeg's input arguments for a device on a platform (pure: no device is touched). */
export function webcamInputArgs(device: string, opts: { size?: { width: number; height: number }; fps?: number; platform: WebcamPlatform }): string[] {
  if (device.startsWith(LAVFI_PREFIX)) {
    // The graph fixes size and rate itself (testsrc2=size=...:rate=...).
    return ['-f', 'lavfi', '-i', device.slice(LAVFI_PREFIX.length)];
  }
  const size = opts.size ? ['-video_size', `${opts.size.width}x${opts.size.height}`] : [];
  const fps = opts.fps ? ['-framerate', String(opts.fps)] : [];
  switch (opts.platform) {
    case 'linux':
      return ['-f', 'v4l2', ...size, ...fps, '-i', /^\d+$/.test(device) ? `/dev/video${device}` : device];
    case 'darwin':
      // avfoundation refuses the camera's default rate on many Macs unless one is given.
      return ['-f', 'avfoundation', ...size, '-framerate', String(opts.fps ?? 30), '-i', `${device}:none`];
    case 'win32':
      return ['-f', 'dshow', ...size, ...fps, '-i', device.startsWith('video=') ? device : `video=${device}`];
  }
}

/** ffmpeg's device listing output (stderr) → devices; avfoundation and dshow print differently. */
export function parseDeviceList(stderr: string, platform: 'darwin' | 'win32'): WebcamDevice[] {
  const out: WebcamDevice[] = [];
  if (platform === 'darwin') {
    let inVideo = false;
    for (const line of stderr.split('\n')) {
      if (/AVFoundation video devices/i.test(line)) { inVideo = true; continue; }
      if (/AVFoundation audio devices/i.test(line)) { inVideo = false; continue; }
      const m = /\]\s*\[(\d+)\]\s*(.+)$/.exec(line);
      if (inVideo && m) out.push({ id: m[1]!, name: m[2]!.trim() });
    }
  } else {
    let inVideo = false;
    for (const line of stderr.split('\n')) {
      if (/DirectShow video devices/i.test(line)) { inVideo = true; continue; }
      if (/DirectShow audio devices/i.test(line)) { inVideo = false; continue; }
      if (/Alternative name/i.test(line)) continue;
      const m = /\]\s*"([^"]+)"(\s*\((video|audio|none)\))?/.exec(line);
      if (!m) continue;
      // ffmpeg 5+ tags each device with its kind instead of section headers.
      if (m[3] ? m[3] === 'video' : inVideo) out.push({ id: m[1]!, name: m[1]! });
    }
  }
  return out;
}

function linuxDevices(): WebcamDevice[] {
  let names: string[];
  try {
    names = readdirSync('/dev').filter((n) => /^video\d+$/.test(n));
  } catch {
    return [];
  }
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return names.map((n) => {
    let name = n;
    try { name = readFileSync(`/sys/class/video4linux/${n}/name`, 'utf8').trim() || n; } catch { /* no sysfs: the node name will do */ }
    return { id: `/dev/${n}`, name };
  });
}

function ffmpegStderr(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    let err = '';
    let proc;
    try {
      proc = spawn(ffmpegPath(), ['-hide_banner', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      resolve(errorText(e));
      return;
    }
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => { err += d; });
    proc.on('error', (e) => resolve(err + e.message));
    proc.on('close', () => resolve(err));
  });
}

/** Cameras this machine has, as ffmpeg would open them. */
export async function listWebcams(platform: WebcamPlatform = currentPlatform()): Promise<WebcamDevice[]> {
  if (platform === 'linux') return linuxDevices();
  if (platform === 'darwin') return parseDeviceList(await ffmpegStderr(['-f', 'avfoundation', '-list_devices', 'true', '-i', '']), 'darwin');
  return parseDeviceList(await ffmpegStderr(['-f', 'dshow', '-list_devices', 'true', '-i', 'dummy']), 'win32');
}

/** One line naming the cameras there are, for "no such device" messages. */
export function describeDevices(devices: readonly WebcamDevice[]): string {
  if (!devices.length) return `no cameras were found on this machine; for a virtual test camera use --webcam ${TEST_WEBCAM}`;
  return `available: ${devices.map((d) => (d.id === d.name ? d.id : `${d.id} (${d.name})`)).join(', ')}`;
}

/** Turns ffmpeg's reasons into the one line a user can act on. */
export function webcamErrorText(device: string, why: string): string {
  if (/busy/i.test(why)) return `camera ${device} is busy: close the other program using it (video call, browser tab) and try again`;
  if (/permission denied/i.test(why)) return `no permission to open camera ${device}: add yourself to the video group (Linux) or allow camera access for the terminal (macOS)`;
  if (/no such file|not found|could not find|cannot open|does not exist|I\/O error/i.test(why)) return `camera ${device} cannot be opened (${why})`;
  return `camera ${device}: ${why}`;
}

/**
 * A live camera through ffmpeg's device inputs (v4l2, avfoundation, dshow),
 * or a lavfi graph standing in for one. lavfi runs as fast as the CPU allows,
 * so it is paced to its own rate the way a camera delivers frames.
 */
export async function webcamSource(opts: WebcamOptions = {}): Promise<FrameSource> {
  const platform = opts.platform ?? currentPlatform();
  let device = opts.device;
  const lavfi = device?.startsWith(LAVFI_PREFIX) ?? false;
  if (!lavfi) {
    const devices = await listWebcams(platform);
    if (!device) {
      if (!devices.length) throw new DepthVideoError('WEBCAM', `no camera to open: ${describeDevices(devices)}`);
      device = devices[0]!.id;
    }
    const wanted = platform === 'linux' && /^\d+$/.test(device) ? `/dev/video${device}` : device;
    const known = platform === 'linux' ? existsSync(wanted) : devices.some((d) => d.id === device || d.name === device);
    if (!known) throw new DepthVideoError('WEBCAM', `no camera ${wanted}: ${describeDevices(devices)}`, { file: wanted });
    device = wanted;
  }
  const dev = device!;
  const inner = ffmpegSource({
    inputArgs: [...(lavfi ? [] : ['-thread_queue_size', '64']), ...webcamInputArgs(dev, { size: opts.size, fps: opts.fps, platform })],
    label: lavfi ? dev : `camera ${dev}`,
    live: true,
    pace: lavfi,
    maxInFlight: opts.maxInFlight ?? 32,
  });
  return liveSource(inner, dev);
}

/**
 * Wraps a device source: clearer errors (busy, permissions), and a camera that
 * stops delivering before anyone asked becomes a warning, so the pipeline keeps
 * what it has and says why it ended.
 */
function liveSource(inner: FrameSource, device: string): FrameSource {
  const damage: SourceDamage[] = [];
  let stopped = false;
  const frames$ = new Observable<VideoFrame>((sub) => {
    const s = inner.frames$.subscribe({
      next: (f) => sub.next(f),
      error: (e: unknown) => {
        const msg = errorText(e);
        const why = /\((.*)\)$/.exec(msg)?.[1] ?? msg;
        sub.error(new DepthVideoError('WEBCAM', webcamErrorText(device, why), { file: device, cause: e }));
      },
      complete: () => {
        if (!stopped && !device.startsWith(LAVFI_PREFIX)) {
          const said = inner.damage[0]?.text;
          damage.push({ text: `camera ${device} stopped delivering frames after ${inner.framesRead} (unplugged or taken by another program)${said ? `: ${said}` : ''}`, error: true, after: inner.damage[0]?.after ?? null });
        }
        sub.complete();
      },
    });
    return () => s.unsubscribe();
  });
  return {
    frames$,
    info: inner.info,
    stop: () => { stopped = true; inner.stop(); },
    get damage() { return damage.length ? damage : inner.damage; },
    limitInFlight: (n: number | null) => inner.limitInFlight?.(n),
    get framesRead() { return inner.framesRead; },
  };
}
