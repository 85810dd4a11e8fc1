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
    expect(sink.stats).toEqual({ framesRecorded: 3, framesSkipped: 7 });
    const lines = readJsonl(join(sink.dir, 'frames.jsonl'));
    expect(lines.map((l) => l.index)).toEqual([0, 1, 2]);
    expect(warnings.join('\n')).toMatch(/skipped 7 inferred frame/);
    // Every source frame is accounted for: 3 recorded + the droppedBefore of each.
    // After the skips, the next recorded frame carries them (frames 3..9 skipped, none recorded after).
    expect(lines.map((l) => l.droppedBefore)).toEqual([1, 1, 1]);

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
    expect(l2.map((l) => l.index)).toEqual([0, 1, 4]);
    // frames 2 and 3 skipped (1 each) + frame 4's own dropped source frame.
    expect(l2[2]!.droppedBefore).toBe(3);
  });
});
