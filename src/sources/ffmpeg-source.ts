import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Observable } from '../rx.js';
import { DepthVideoError } from '../errors.js';
import { ffmpegPath } from '../ffmpeg/binary.js';
import type { Rational } from '../ffmpeg/probe.js';
import { frameBytes as frameBytesOf } from '../render/yuv-to-rgb.js';
import type { VideoFrame, YuvColour } from '../types.js';
import { rawFrameReader } from './raw-frames.js';

export interface SourceInfo {
  /** What the frames come from, for messages (a path, a device, a lavfi graph). */
  readonly label: string;
  readonly width: number;
  readonly height: number;
  /** Exact rational rate the decoder reports (30000/1001), null when unknown. */
  readonly frameRate: Rational | null;
  /** The decoder's time base; pts values are exact multiples of it. */
  readonly timeBase: Rational;
  /** True for cameras and other sources that cannot be paused or rewound. */
  readonly live: boolean;
}

export interface FrameSource {
  /** Cold: subscribing starts ffmpeg, unsubscribing kills it. Subscribe once. */
  readonly frames$: Observable<VideoFrame>;
  /** Resolves when the geometry and rate of the stream are known. */
  readonly info: Promise<SourceInfo>;
  /** Ends the stream (Ctrl-C, the page's stop button): no further frames are emitted, then it completes. */
  stop(): void;
  /** Damage seen so far (corrupt data, truncation, a camera that went away), in the order reported. */
  readonly damage: readonly SourceDamage[];
  readonly framesRead: number;
  /**
   * Caps the frames alive at once below the source's own maxInFlight from
   * now on (null lifts the cap). Lowering it emits nothing until enough of
   * the frames already alive are released. A sync run queues every frame
   * the source lets through, so this cap is its lag; sources without slots
   * need not implement it.
   */
  limitInFlight?(n: number | null): void;
}

export interface SourceDamage {
  /** What was reported, in ffmpeg's own words where ffmpeg said it. */
  readonly text: string;
  /** An error (the decoder or demuxer failed), not only a warning. */
  readonly error: boolean;
  /** pts (s) of the last frame decoded before it was reported; null when none had been. */
  readonly after: number | null;
}

/** One line of ffmpeg's log, as `-loglevel level+info` prints it. */
export interface LogLine {
  /** The context that logged it (`h264`, `mpegts`, `Parsed_showinfo_0`); null for ffmpeg itself. */
  readonly component: string | null;
  readonly level: string;
  readonly text: string;
}

const LOG_LINE = /^(?:\[([^\]]+?)(?: @ 0x[0-9a-f]+)?\] )?\[(quiet|panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/;

export function parseLogLine(line: string): LogLine {
  const m = LOG_LINE.exec(line);
  return m ? { component: m[1] ?? null, level: m[2]!, text: m[3]! } : { component: null, level: 'info', text: line };
}

// Warnings that mean damaged or truncated data (errors always do).
const DAMAGE_WARNING = /(read error|error while decoding|invalid nal|partial file|corrupt|truncat|invalid data|missing|mismatch|concealing|end of file|no frame!|error splitting|overread)/i;
// Our side of the pipe, not the input: ffmpeg reports these when the reader goes away.
const OUTPUT_SIDE = /^(swscaler|graph|Parsed_|rawvideo$|null$)|^$/;
const OUTPUT_ERROR = /Broken pipe|pipe:1|Conversion failed/;

/**
 * Whether a log line reports damage in the input. Decided by who logged it
 * and how loudly, never by looking for words anywhere in the line: a file
 * named corrupt.ts puts "corrupt" in ffmpeg's banner, which is not damage.
 */
export function isDamage(l: LogLine): boolean {
  if (l.component !== null && OUTPUT_SIDE.test(l.component)) return false;
  if (l.level === 'error' || l.level === 'fatal' || l.level === 'panic') return !OUTPUT_ERROR.test(l.text);
  return l.level === 'warning' && DAMAGE_WARNING.test(l.text);
}

export interface FfmpegSourceOptions {
  /** ffmpeg arguments that open the input, e.g. ['-i', 'in.mp4'] or ['-f', 'lavfi', '-i', 'testsrc2']. */
  readonly inputArgs: readonly string[];
  /** ffmpeg filters applied to the decoded frames before anything else, e.g. a still's EXIF turn. */
  readonly filters?: string | null;
  readonly label: string;
  readonly live?: boolean;
  /**
   * Emit frames at the input's own rate (by pts), the way a camera would
   * deliver them. Used for the async schedule on files and for lavfi test
   * sources that would otherwise run as fast as the CPU allows.
   */
  readonly pace?: boolean;
  /**
   * At most this many frames alive at once (emitted, not yet released). When
   * reached, the frame reader (raw-frames.ts) stops reading, and the full
   * FIFO or pipe stops the decoder: memory stays flat however long the video is.
   */
  readonly maxInFlight?: number;
  /** Extra ffmpeg output options placed before the rawvideo output (e.g. -frames:v N). */
  readonly outputArgs?: readonly string[];
  /**
   * Frames stay yuv420p as the decoder gives them (the input must be
   * yuv420p, or yuvj420p for full range, with even sides), and carry this
   * colour; null or absent: ffmpeg converts them to RGB24.
   */
  readonly yuv?: YuvColour | null;
}

const SHOWINFO_FRAME = /^n:\s*(\d+) pts:\s*(-?\d+)/;
const SHOWINFO_CONFIG = /^config in time_base: (\d+)\/(\d+), frame_rate: (\d+)\/(\d+)/;
const OUTPUT_SIZE = /Stream #0:0.*: Video: rawvideo[^\n]*?, (\d+)x(\d+)/;

export function ffmpegSource(opts: FfmpegSourceOptions): FrameSource {
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
  const damage: SourceDamage[] = [];
  let cap = maxInFlight;
  let capChanged: (() => void) | null = null;
  let framesRead = 0;
  let stopRequested: (() => void) | null = null;
  let stopEarly = false;
  let resolveInfo!: (i: SourceInfo) => void;
  let rejectInfo!: (e: unknown) => void;
  const info = new Promise<SourceInfo>((res, rej) => { resolveInfo = res; rejectInfo = rej; });
  info.catch(() => undefined); // consumers that only subscribe see the error through the observable

  const yuv = opts.yuv ?? null;
  const frames$ = new Observable<VideoFrame>((subscriber) => {
    const args = [
      // level: every line says how serious it is, so damage is told apart
      // from the banner by ffmpeg's own judgement.
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info',
      ...opts.inputArgs,
      '-map', '0:v:0',
      // showinfo is the one place ffmpeg 4 reports each frame's exact pts and
      // the stream's exact rational rate; rawvideo on a pipe carries neither.
      '-vf', opts.filters ? `${opts.filters},showinfo=checksum=0` : 'showinfo=checksum=0',
      '-vsync', 'passthrough',
      ...(opts.outputArgs ?? []),
      // yuvj420p is full-range yuv420p: naming it keeps ffmpeg from converting the range.
      '-f', 'rawvideo', '-pix_fmt', yuv ? (yuv.range === 'full' ? 'yuvj420p' : 'yuv420p') : 'rgb24', 'pipe:1',
    ];
    const ready: { index: number; data: Uint8Array; slot: number; readAt: number }[] = [];
    let alive = 0;
    let emitted = 0;
    // ffmpeg's process has closed (exit code and signal), and its frame output has ended.
    let closed: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let outputEnd: { partialBytes: number; error: string | null } | null = null;
    let exited = false;
    let finished = false;
    let paceStart: { wall: number; pts: number } | null = null;
    let paceTimer: NodeJS.Timeout | null = null;

    // Reading stops at the cap (see flow), so maxInFlight slots are enough; the rest is margin.
    const reader = rawFrameReader({
      frame: (data, slot, readAt) => {
        ready.push({ index: framesRead++, data, slot, readAt });
        pump();
      },
      end: (partialBytes, error) => {
        outputEnd = { partialBytes, error };
        ended();
      },
    }, { maxSlots: maxInFlight + 4 });
    let proc: ChildProcessByStdio<null, Readable | null, Readable>;
    try {
      proc = spawn(ffmpegPath(), args, { stdio: ['ignore', reader.stdout, 'pipe'] }) as ChildProcessByStdio<null, Readable | null, Readable>;
    } catch (e) {
      reader.close();
      subscriber.error(e);
      return;
    }
    reader.attach(proc.stdout);

    let width = 0;
    let height = 0;
    let frameBytes = 0;
    let timeBase: Rational | null = null;
    let frameRate: Rational | null = null;
    const pts: number[] = [];
    let lastError: string | null = null;
    let inputOpened = false;
    let stderrBuf = '';
    let infoSent = false;
    let inOutput = false;
    const noteDamage = (text: string, error: boolean) => {
      if (damage.length < 20) damage.push({ text, error, after: pts.length ? pts[pts.length - 1]! : null });
    };

    const sendInfo = () => {
      if (infoSent || !width || !height || !timeBase) return;
      infoSent = true;
      resolveInfo({ label: opts.label, width, height, frameRate, timeBase, live: opts.live ?? false });
    };

    const ptsOf = (i: number): number | undefined => {
      if (i < pts.length) return pts[i];
      if (!exited) return undefined;
      // The process ended without a showinfo line for this frame (it can
      // happen on a hard kill): extrapolate on the nominal rate.
      const last = pts.length ? pts[pts.length - 1]! : 0;
      const step = frameRate && frameRate.num > 0 ? frameRate.den / frameRate.num : 1 / 30;
      return last + (i - pts.length + 1) * step;
    };

    // Reading goes on while fewer than 2 frames wait and the alive ones are under the cap.
    const flow = () => {
      if (!finished) reader.allow(emitted + Math.min(2, cap - alive));
    };

    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      if (paceTimer) clearTimeout(paceTimer);
      reader.close();
      if (!exited) proc.kill('SIGKILL');
      if (err) {
        rejectInfo(err);
        subscriber.error(err);
      } else {
        if (!infoSent) rejectInfo(new DepthVideoError('INPUT_NOT_MEDIA', `${opts.label}: no frames were decoded`, { file: opts.label }));
        subscriber.complete();
      }
    };

    // pump() can be re-entered: a frame released while the scheduler handles
    // the one just emitted calls it again. Emitting from the inner call would
    // hand the scheduler frame k+1 before it has finished with frame k, so the
    // inner call only asks the outer loop to go round once more.
    let pumping = false;
    let pumpAgain = false;
    const pump = () => {
      if (pumping) { pumpAgain = true; return; }
      pumping = true;
      try {
        do {
          pumpAgain = false;
          pumpOnce();
        } while (pumpAgain && !finished);
      } finally {
        pumping = false;
      }
    };

    const pumpOnce = () => {
      if (finished) return;
      while (ready.length && alive < cap) {
        if (stopEarly) break;
        const head = ready[0]!;
        const p = ptsOf(head.index);
        if (p === undefined) break; // its showinfo line has not arrived yet
        if (opts.pace) {
          const now = performance.now();
          if (!paceStart) paceStart = { wall: now, pts: p };
          const due = paceStart.wall + (p - paceStart.pts) * 1000;
          if (due > now + 1) {
            if (!paceTimer) paceTimer = setTimeout(() => { paceTimer = null; pump(); }, due - now);
            break;
          }
        }
        ready.shift();
        alive++;
        emitted++;
        let released = false;
        const data = head.data;
        const frame: VideoFrame = {
          ...(yuv ? { format: 'yuv420p', colour: yuv } as const : { format: 'rgb24' } as const),
          index: head.index,
          pts: p,
          width,
          height,
          data,
          // A paced source stands in for a camera: its frame is "captured"
          // when it is due, not when ffmpeg happened to produce it ahead.
          captureTime: opts.pace ? performance.now() : head.readAt,
          release: () => {
            if (released) return;
            released = true;
            alive--;
            reader.release(head.slot);
            pump();
          },
        };
        subscriber.next(frame);
      }
      if (stopEarly || (exited && ready.length === 0)) {
        if (stopEarly) { ready.length = 0; }
        finish();
        return;
      }
      flow();
    };

    const onLine = (raw: string) => {
      const log = parseLogLine(raw);
      const line = log.text;
      let m: RegExpExecArray | null;
      if ((m = SHOWINFO_FRAME.exec(line))) {
        const n = Number(m[1]);
        if (timeBase && n === pts.length) {
          pts.push((Number(m[2]) * timeBase.num) / timeBase.den);
          if (ready.length && ready[0]!.index === n) pump();
        }
        return;
      }
      if ((m = SHOWINFO_CONFIG.exec(line))) {
        timeBase = { num: Number(m[1]), den: Number(m[2]) };
        const fr = { num: Number(m[3]), den: Number(m[4]) };
        frameRate = fr.num > 0 && fr.den > 0 ? fr : null;
        sendInfo();
        return;
      }
      if (line.startsWith('Input #0')) inputOpened = true;
      if (line.startsWith('Output #0')) inOutput = true;
      if (!width && inOutput && (m = OUTPUT_SIZE.exec(line))) {
        width = Number(m[1]);
        height = Number(m[2]);
        if (yuv && (width % 2 || height % 2)) {
          finish(new DepthVideoError('INPUT_DAMAGED', `${opts.label}: the decoder gave ${width}x${height} frames, which yuv420p cannot hold as decoded; re-encode the file with even sides`, { file: opts.label }));
          return;
        }
        frameBytes = frameBytesOf(yuv ? 'yuv420p' : 'rgb24', width, height);
        sendInfo();
        reader.setFrameBytes(frameBytes);
        pump();
        return;
      }
      if (log.level === 'error' || log.level === 'fatal') lastError = line.trim();
      if (isDamage(log)) noteDamage(line.trim(), log.level !== 'warning');
    };

    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      stderrBuf += d;
      let i: number;
      while ((i = stderrBuf.indexOf('\n')) >= 0) {
        const line = stderrBuf.slice(0, i).replace(/\r$/, '');
        stderrBuf = stderrBuf.slice(i + 1);
        // Stream headers span lines: the size sits on the "Stream #0:0" line
        // of the Output section, which is the only rawvideo stream.
        onLine(line);
      }
    });

    proc.on('error', (e) => finish(new DepthVideoError('FFMPEG', `cannot run ffmpeg for ${opts.label}: ${e.message}`, { file: opts.label, cause: e })));
    proc.on('close', (code, signal) => {
      if (stderrBuf) { onLine(stderrBuf); stderrBuf = ''; }
      closed = { code, signal };
      // Without a frame size the reader never started reading: there is no output to wait for.
      if (!frameBytes && !outputEnd) {
        reader.close();
        outputEnd = { partialBytes: 0, error: null };
      }
      ended();
    });

    // Both the process and its frame output are over: what was decoded is all there is.
    function ended(): void {
      if (!closed || !outputEnd || exited) return;
      exited = true;
      if (finished) return;
      const { code, signal } = closed;
      if (framesRead === 0 && !stopEarly) {
        const why = damage.find((d) => d.error)?.text ?? lastError ?? outputEnd.error ?? `ffmpeg exited with ${signal ?? code}`;
        // ffmpeg opened the file and found its streams, yet nothing decoded: the data is damaged.
        const errCode = opts.live ? 'WEBCAM' : inputOpened ? 'INPUT_DAMAGED' : 'INPUT_NOT_MEDIA';
        const text = errCode === 'INPUT_DAMAGED'
          ? `${opts.label} is damaged or truncated: no frame could be decoded (ffmpeg: "${why}"); re-copy or re-export the file`
          : `${opts.label}: no frames could be decoded (${why})`;
        finish(new DepthVideoError(errCode, text, { file: opts.label }));
        return;
      }
      if (code !== 0 && signal === null && damage.length === 0) noteDamage(`ffmpeg exited with code ${code}${lastError ? `: ${lastError}` : ''}`, true);
      if (outputEnd.error) noteDamage(`reading the decoded frames failed: ${outputEnd.error}`, true);
      if (outputEnd.partialBytes > 0) noteDamage(`the last frame was incomplete (${outputEnd.partialBytes} of ${frameBytes} bytes) and was dropped`, true);
      pump();
    }

    stopRequested = () => {
      stopEarly = true;
      pump();
    };
    capChanged = pump;

    return () => {
      capChanged = null;
      if (paceTimer) clearTimeout(paceTimer);
      finished = true;
      reader.close();
      if (!exited) proc.kill('SIGKILL');
    };
  });

  return {
    frames$,
    info,
    stop: () => { stopEarly = true; stopRequested?.(); },
    get damage() { return damage; },
    limitInFlight: (n: number | null) => {
      cap = n === null ? maxInFlight : Math.max(1, Math.min(n, maxInFlight));
      capChanged?.();
    },
    get framesRead() { return framesRead; },
  };
}
