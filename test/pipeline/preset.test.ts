import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelinesDir } from '../../src/paths.js';
import { loadPreset, parsePreset } from '../../src/pipeline/preset.js';

// loadPreset trusts the shipped presets (no schema compile at every CLI start): this is the check they get instead.
describe('shipped pipeline presets', () => {
  const names = readdirSync(pipelinesDir).filter((f) => f.endsWith('.json') && f !== 'schema.json').map((f) => f.slice(0, -5));

  it('are all there', () => {
    expect(names.sort()).toEqual(['compare', 'default', 'matte', 'quality', 'realtime']);
  });

  it.each(names)('%s passes the schema and loads by name as parsed', (name) => {
    const file = join(pipelinesDir, `${name}.json`);
    const checked = parsePreset(readFileSync(file, 'utf8'), file);
    expect(checked.name).toBe(name);
    expect(loadPreset(name)).toEqual(checked);
  });

  it('a preset file named by path is still checked against the schema', () => {
    expect(() => parsePreset(JSON.stringify({ name: 'x', model: 'dpt-tiny', schedule: 'sometimes', render: { colormap: 'turbo', layout: 'depth' } }), 'x.json'))
      .toThrow(/x\.json: schedule must be one of async, sync/);
  });
});
