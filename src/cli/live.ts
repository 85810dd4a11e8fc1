import type { CliExtension } from './extension.js';

/** Placeholder until the live feature lands. */
export const liveExtension: CliExtension = {
  name: 'live',
  addOptions() {},
};
