import { BehaviorSubject, Subject } from '../rx.js';
import type { RenderSettings } from '../render/renderer.js';
import type { ScheduleMode } from '../types.js';

/**
 * Steering a running pipeline from outside (the preview page's controls, the
 * terminal's record key). Sinks and UIs push; the pipeline reads.
 */
export class RunControl {
  /** Render settings changes, applied from the next inferred frame on. */
  readonly render = new Subject<Partial<RenderSettings>>();
  readonly schedule: BehaviorSubject<ScheduleMode>;
  /** true = start recording, false = stop (when a recorder is attached). */
  readonly recording = new Subject<boolean>();
  /** Ends the run cleanly, like Ctrl-C. */
  readonly stop = new Subject<void>();

  constructor(mode: ScheduleMode) {
    this.schedule = new BehaviorSubject<ScheduleMode>(mode);
  }
}
