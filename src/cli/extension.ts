import type { Command } from 'commander';
import type { RunControl } from '../pipeline/control.js';
import type { PipelineInput, PipelineOptions } from '../pipeline/run.js';
import type { FrameSink } from '../pipeline/types.js';
import type { CliIO } from './main.js';

/** Parsed flags of the main command; each extension reads its own. */
export type Flags = Readonly<Record<string, unknown>>;

/** The model a run loads and where it runs, merged from the preset and the flags. */
export type RunModelOptions = Pick<PipelineOptions, 'model' | 'device' | 'spec' | 'checkpoint' | 'allowDownload'>;

export interface ExtensionContext {
  readonly flags: Flags;
  readonly io: CliIO;
  readonly control: RunControl;
  /** The input file, or the label of a live source. */
  readonly inputLabel: string;
  readonly input: PipelineInput;
  readonly run: RunModelOptions;
}

/**
 * A feature that plugs into the main command (live preview and webcams,
 * recording) without the CLI knowing its insides: it adds options, may
 * provide the input, and may add sinks.
 */
export interface CliExtension {
  readonly name: string;
  addOptions(cmd: Command): void;
  /** Handles a flag that replaces the run (e.g. --list-webcams); returns an exit code, or null to go on. */
  handle?(flags: Flags, io: CliIO, run: RunModelOptions): Promise<number | null>;
  /** Provides the input when the flags ask for a non-file source (e.g. --webcam). */
  input?(flags: Flags, io: CliIO): Promise<PipelineInput | null>;
  /** Sinks to attach to the run. */
  sinks?(ctx: ExtensionContext): Promise<FrameSink[]>;
  /** Whether the run needs no --out (preview-only, record-only). */
  outputOptional?(flags: Flags): boolean;
}
