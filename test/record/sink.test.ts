import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunControl } from '../../src/pipeline/control.js';
import type { OutputFrame, PipelineContext } from '../../src/pipeline/types.js';
import { recorderSink } from '../../src/sinks/recorder-sink.js';
import { readJsonl, tempDir } from './helpers.js';

const W = 8;
const H = 6;

function fakeContext(modelPath: string): PipelineContext {
  const spec = { width: W, height: H, keepAspect: false, resizeMethod: 'minimal', multipleOf: 1, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB', inputInterpolation: 'bilinear', outputInterpolation: 'bilinear', outputAlignCorners: false } as const;
  return {
    source: { label: 'fake', width: W, height: H, frameRate: { num: 30, den: 1 }, timeBase: { num: 1, den: 30 }, live: true },
    model: { path: modelPath, label: 'fake-model', family: 'analytic', spec, untrained: true } as unknown as PipelineContext['model'],
    inputSize: { width: W, height: H },
    outputSize: { width: W, height: H },
    firstPts: 0,
    inputPath: null,
  };
}

function fakeFrame(index: number, droppedBefore: number): OutputFrame {
  const unit = new Float32Array(W * H).map((_, i) => ((i + index) % (W * H)) / (W * H - 1));
  return {
    frame: { index, pts: index / 30, width: W, height: H, data: new Uint8Array(W * H * 3), captureTime: 0, release() {} },
    image: { width: W, height: H, data: new Uint8Array(W * H * 3) },
    inferred: true,
    depth: { unit, depthRgb: { width: W, height: H, data: new Uint8Array(W * H * 3) }, lo: 0, hi: 1, rawMin: 0, rawMax: 1, reset: false },
    raw: null,
    inferenceMs: 1,
    droppedBefore,
    inputSize: { width: W, height: H },
  };
}

describe('recorderSink backpressure in async runs', () => {
  it('skips frames while too many wait for disk and accounts for them in droppedBefore', async () => {
    const dir = tempDir('sink');
    const model = join(dir, 'model.onnx');
    writeFileSync(model, 'not really a model');
    const control = new RunControl('async');
    const warnings: string[] = [];
    const sink = recorderSink({ dir: join(dir, 'rec'), format: 'png16', overwrite: false, control, maxPending: 3, onWarning: (l) => warnings.push(l) });
    await sink.start!(fakeContext(model));
    // Fired without awaiting, as a stream faster than the disk would: nothing reaches disk in between.
    const writes = [];
    for (let i = 0; i < 10; i++) writes.push(sink.write(fakeFrame(i, 1)));
    await Promise.all(writes);
    await sink.finish(false);
    // pending also counts the manifest save of start(), so at most maxPending - 1 frames get in.
    const { framesRecorded, framesSkipped } = sink.stats;
    expect(framesRecorded).toBeGreaterThan(0);
    expect(framesRecorded).toBeLessThanOrEqual(3);
    expect(framesRecorded + framesSkipped).toBe(10);
    const lines = readJsonl(join(sink.dir, 'frames.jsonl'));
    expect(lines.map((l) => l.index)).toEqual([...Array(framesRecorded).keys()]);
    expect(lines.map((l) => l.droppedBefore)).toEqual(lines.map(() => 1));
    expect(warnings.join('\n')).toMatch(new RegExp(`skipped ${framesSkipped} inferred frame`));

    // Once the queue drained, frames are recorded again and carry what was skipped before them.
    const dir2 = tempDir('sink2');
    const sink2 = recorderSink({ dir: join(dir2, 'rec'), format: 'png16', overwrite: false, control, maxPending: 2 });
    await sink2.start!(fakeContext(model));
    const w2 = [0, 1, 2, 3].map((i) => sink2.write(fakeFrame(i, 0)));
    await Promise.all(w2);
    await new Promise((r) => setTimeout(r, 200));
    await sink2.write(fakeFrame(4, 1));
    await sink2.finish(false);
    const l2 = readJsonl(join(sink2.dir, 'frames.jsonl'));
    const idx = l2.map((l) => l.index as number);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(4);
    expect(sink2.stats.framesSkipped).toBeGreaterThan(0);
    expect(idx.length + sink2.stats.framesSkipped).toBe(5);
    // Frame 4 carries the skipped frames since the previous recorded one, plus its own dropped source frame.
    const prev = idx[idx.length - 2]!;
    expect(l2[l2.length - 1]!.droppedBefore).toBe(4 - prev - 1 + 1);
  });
});
