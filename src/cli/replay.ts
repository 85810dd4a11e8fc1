import type { Command } from 'commander';
import type { CliIO } from './main.js';

/** Placeholder until `depth-video replay` lands. */
export function registerReplayCommand(_program: Command, _io: CliIO, _setExit: (code: number) => void): void {}
