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
  /** Pictures started a second, on average. */
  readonly maxFps: number;
  /** Picture bytes sent in any one second. */
  readonly maxBytesPerSecond: number;
}

/**
 * The input picture's share of a viewer's bandwidth. Pictures start at most
 * maxFps a second on average: a token bucket (refilled at maxFps, holding 2)
 * lets a camera's jittery 30 frames through whole while holding a faster one
 * to the rate, and no picture starts less than half a frame interval after
 * the previous one (frames released in a burst after a stall are not all
 * sent). The bytes sent in the last second plus one more picture the size of
 * the last must stay within maxBytesPerSecond. Every viewer gets the same
 * pictures (they are encoded once), so this is a per-viewer budget.
 */
export class InputBudget {
  private tokens = 2;
  private refilledAt: number | null = null;
  private lastStart = -Infinity;
  private readonly sent: { t: number; bytes: number }[] = [];
  private bytesInWindow = 0;
  private lastBytes = 0;

  constructor(readonly opts: InputBudgetOptions) {}

  private forget(now: number): void {
    while (this.sent.length && this.sent[0]!.t <= now - 1000) this.bytesInWindow -= this.sent.shift()!.bytes;
  }

  admit(now: number): boolean {
    this.tokens = Math.min(2, this.tokens + ((now - (this.refilledAt ?? now)) * this.opts.maxFps) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1 || now - this.lastStart < 500 / this.opts.maxFps) return false;
    this.forget(now);
    return this.bytesInWindow + this.lastBytes <= this.opts.maxBytesPerSecond;
  }

  started(now: number): void {
    this.tokens -= 1;
    this.lastStart = now;
  }

  delivered(now: number, bytes: number): void {
    this.forget(now);
    this.sent.push({ t: now, bytes });
    this.bytesInWindow += bytes;
    this.lastBytes = bytes;
  }
}
