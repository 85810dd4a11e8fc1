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
  /** Picture bytes sent to one viewer in any one second. */
  readonly maxBytesPerSecond: number;
  /** Picture bytes sent to all viewers together in any one second (the machine's uplink, and its CPU). */
  readonly maxTotalBytesPerSecond: number;
}

/**
 * The input picture's share of a viewer's bandwidth. Pictures start at most
 * maxFps a second on average: a token bucket (refilled at maxFps, holding 2)
 * lets a camera's jittery 30 frames through whole while holding a faster one
 * to the rate, and no picture starts less than half a frame interval after
 * the previous one (frames released in a burst after a stall are not all
 * sent). The bytes sent in the last second plus one more picture the size of
 * the last must stay within maxBytesPerSecond for each viewer (they all get
 * the same pictures, encoded once) and within maxTotalBytesPerSecond for all
 * of them together: many viewers get fewer pictures each.
 */
export class InputBudget {
  private tokens = 2;
  private refilledAt: number | null = null;
  private lastStart = -Infinity;
  private readonly sent: { t: number; bytes: number; viewers: number }[] = [];
  private bytesInWindow = 0;
  private totalInWindow = 0;
  private lastBytes = 0;
  private lastViewers = 1;

  constructor(readonly opts: InputBudgetOptions) {}

  private forget(now: number): void {
    while (this.sent.length && this.sent[0]!.t <= now - 1000) {
      const s = this.sent.shift()!;
      this.bytesInWindow -= s.bytes;
      this.totalInWindow -= s.bytes * s.viewers;
    }
  }

  admit(now: number): boolean {
    this.tokens = Math.min(2, this.tokens + ((now - (this.refilledAt ?? now)) * this.opts.maxFps) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1 || now - this.lastStart < 500 / this.opts.maxFps) return false;
    this.forget(now);
    return this.bytesInWindow + this.lastBytes <= this.opts.maxBytesPerSecond
      && this.totalInWindow + this.lastBytes * this.lastViewers <= this.opts.maxTotalBytesPerSecond;
  }

  started(now: number): void {
    this.tokens -= 1;
    this.lastStart = now;
  }

  /** A picture of `bytes` went to `viewers` viewers. */
  delivered(now: number, bytes: number, viewers: number): void {
    this.forget(now);
    this.sent.push({ t: now, bytes, viewers });
    this.bytesInWindow += bytes;
    this.totalInWindow += bytes * viewers;
    this.lastBytes = bytes;
    this.lastViewers = Math.max(1, viewers);
  }
}
