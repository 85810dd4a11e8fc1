/**
 * Rates of the live page: how often things happen, measured on their own
 * timestamps, and how much of the input picture a viewer may be sent.
 */

/**
 * Events per second over the last `windowMs` of their own timestamps (ms).
 * Fed with capture timestamps (pts), a camera's rate reads the same however
 * the frames were delivered: after a stall they arrive in a burst, but their
 * timestamps are still a frame interval apart.
 */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 2000, private readonly maxEvents = 240) {}

  tick(t: number): void {
    const times = this.times;
    // A timestamp going back (a camera restarting its clock) starts afresh.
    if (times.length && t < times[times.length - 1]!) times.length = 0;
    times.push(t);
    while (times.length > 2 && (times[0]! < t - this.windowMs || times.length > this.maxEvents)) times.shift();
  }

  get fps(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const span = this.times[n - 1]! - this.times[0]!;
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }
}

export interface InputBudgetOptions {
  /** Pictures started in any one second. */
  readonly maxFps: number;
  /** Picture bytes sent in any one second. */
  readonly maxBytesPerSecond: number;
}

/**
 * The input picture's share of a viewer's bandwidth. A picture may start
 * when fewer than maxFps started in the last second, at least half a frame
 * interval after the previous one (no bursts after a stall), and when the
 * bytes sent in the last second plus one more picture the size of the last
 * stay within maxBytesPerSecond. Every viewer gets the same pictures (they
 * are encoded once), so this is a per-viewer budget.
 */
export class InputBudget {
  private readonly starts: number[] = [];
  private readonly sent: { t: number; bytes: number }[] = [];
  private bytesInWindow = 0;
  private lastBytes = 0;

  constructor(readonly opts: InputBudgetOptions) {}

  private forget(now: number): void {
    while (this.starts.length && this.starts[0]! <= now - 1000) this.starts.shift();
    while (this.sent.length && this.sent[0]!.t <= now - 1000) this.bytesInWindow -= this.sent.shift()!.bytes;
  }

  admit(now: number): boolean {
    this.forget(now);
    const last = this.starts[this.starts.length - 1];
    if (last !== undefined && now - last < 500 / this.opts.maxFps) return false;
    if (this.starts.length >= this.opts.maxFps) return false;
    return this.bytesInWindow + this.lastBytes <= this.opts.maxBytesPerSecond;
  }

  started(now: number): void {
    this.starts.push(now);
  }

  delivered(now: number, bytes: number): void {
    this.forget(now);
    this.sent.push({ t: now, bytes });
    this.bytesInWindow += bytes;
    this.lastBytes = bytes;
  }
}
