import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { DepthVideoError } from '../errors.js';
import { pipelinesDir } from '../paths.js';
import type { ColormapName, LayoutName } from '../types.js';
import type { StabilizeMode } from '../stabilize/stabilize.js';
import type { DeviceName } from '../inference/device.js';

/** A pipeline preset as stored in pipelines/*.json (see pipelines/schema.json). */
export interface PipelinePreset {
  readonly name: string;
  readonly description?: string;
  readonly model: string;
  readonly schedule: 'async' | 'sync';
  readonly size?: number | null;
  readonly device?: DeviceName;
  readonly threads?: number | null;
  readonly audio?: boolean;
  readonly render: {
    readonly colormap: ColormapName;
    readonly invert?: boolean;
    readonly highContrast?: boolean;
    readonly layout: LayoutName;
    readonly stabilize?: StabilizeMode;
    readonly stabilizeWindow?: number;
  };
}

let validator: ValidateFunction | null = null;

/** Compiles a JSON schema with ajv (presets, batch and job options). */
export function compileSchema(schema: object): ValidateFunction {
  // ajv ships CommonJS with a default export; createRequire avoids the interop dance.
  const require = createRequire(import.meta.url);
  const AjvCtor = require('ajv') as { default: new (o: object) => { compile(s: object): ValidateFunction } };
  return new AjvCtor.default({ allErrors: false, strict: false }).compile(schema);
}

function validate(): ValidateFunction {
  validator ??= compileSchema(JSON.parse(readFileSync(join(pipelinesDir, 'schema.json'), 'utf8')) as object);
  return validator;
}

/** ajv's first error as words: the field (dotted, or `root`) and what is wrong with it. */
export function describeSchemaError(err: ErrorObject | undefined, root: string): string {
  if (!err) return 'invalid';
  const where = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : root;
  if (err.keyword === 'enum') return `${where} must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (err.keyword === 'additionalProperties') return `${where} has an unknown field "${(err.params as { additionalProperty: string }).additionalProperty}"`;
  return `${where} ${err.message ?? 'is invalid'}`;
}

/** Parses and validates a preset; errors name the file and the field. */
export function parsePreset(text: string, file: string): PipelinePreset {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DepthVideoError('PIPELINE_CONFIG', `${file} is not valid JSON (${(e as Error).message}): fix the preset`, { file });
  }
  const v = validate();
  if (!v(data)) throw new DepthVideoError('PIPELINE_CONFIG', `${file}: ${describeSchemaError(v.errors?.[0], 'preset')}; see pipelines/schema.json`, { file });
  return data as PipelinePreset;
}

/**
 * Loads a preset by path, or by name from the shipped pipelines/ folder.
 * Shipped presets are not run through the schema here: compiling it costs
 * every start of the CLI ~65 ms, and test/pipeline/preset.test.ts holds
 * each shipped preset to it instead. Files users name are always checked.
 */
export function loadPreset(nameOrPath: string): PipelinePreset {
  const shipped = !/[\\/]|\.json$/.test(nameOrPath);
  const file = shipped ? join(pipelinesDir, `${nameOrPath}.json`) : nameOrPath;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DepthVideoError('PIPELINE_CONFIG', `pipeline preset ${file} cannot be read: check the path (shipped presets are in ${pipelinesDir})`, { file });
  }
  return shipped ? (JSON.parse(text) as PipelinePreset) : parsePreset(text, file);
}
