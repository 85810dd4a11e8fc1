import type { CliExtension } from './extension.js';

/** Placeholder until the record feature lands. */
export const recordExtension: CliExtension = {
  name: 'record',
  addOptions() {},
};
