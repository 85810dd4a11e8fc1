/**
 * A frame worker (see frame-workers.ts): preprocessing and rendering jobs,
 * one at a time, reading and writing the pipeline's shared buffers.
 */
import { parentPort } from 'node:worker_threads';
import { errorText } from '../errors.js';
import { imageToTensor } from '../inference/preprocess.js';
import { renderPixels } from '../render/frame-pixels.js';
import type { FromFrameWorker, ToFrameWorker } from './frame-workers.js';

const port = parentPort!;

/**
 * Test seam, honoured only under vitest: DEPTH_VIDEO_TEST_WORKER_CRASH=N ends
 * this thread (as a crash in native code would) at its N-th render job.
 */
const crashAt = process.env.VITEST ? Number(process.env.DEPTH_VIDEO_TEST_WORKER_CRASH ?? 0) : 0;
let renders = 0;

port.on('message', (msg: ToFrameWorker) => {
  const t0 = performance.now();
  try {
    if (msg.kind === 'prepare') {
      imageToTensor(msg.frame, msg.spec, { width: msg.width, height: msg.height }, msg.tensor);
      const reply: FromFrameWorker = { kind: 'prepared', tensor: msg.tensor, ms: performance.now() - t0 };
      port.postMessage(reply, [msg.tensor.buffer as ArrayBuffer]);
      return;
    }
    if (crashAt > 0 && ++renders === crashAt) process.exit(70);
    const r = renderPixels(msg.job, msg.targets);
    const reply: FromFrameWorker = { kind: 'rendered', rawMin: r.rawMin, rawMax: r.rawMax, ms: performance.now() - t0 };
    port.postMessage(reply);
  } catch (e) {
    const reply: FromFrameWorker = { kind: 'failed', message: errorText(e) };
    port.postMessage(reply);
  }
});
