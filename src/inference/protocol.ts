import type { FrameImage, PreprocessSpec } from '../types.js';
import type { FallbackNode } from './placement.js';

/** Messages between DepthSession (main thread) and the inference worker. */
export interface WorkerInit {
  readonly modelPath: string;
  readonly providers: readonly string[];
  readonly threads: number | undefined;
  /** Profile the first run to find nodes the GPU provider left to the CPU (GPU devices only). */
  readonly reportPlacement: boolean;
}

export type ToWorker =
  /** The first message: the worker may have been started before its model was known (spare-worker.ts). */
  | { readonly kind: 'init'; readonly init: WorkerInit }
  | { readonly kind: 'tensor'; readonly id: number; readonly tensor: Float32Array; readonly width: number; readonly height: number }
  /** A frame to preprocess here, then run; `tensor` is a buffer to fill (reused between runs). */
  | {
      readonly kind: 'frame';
      readonly id: number;
      readonly image: FrameImage;
      readonly spec: PreprocessSpec;
      readonly tensor: Float32Array;
      readonly width: number;
      readonly height: number;
    }
  | { readonly kind: 'close' };

export type FromWorker =
  /** onnxruntime is loaded and set up (the thread's first message): from now on the thread may be ended at any time. */
  | { readonly kind: 'warm' }
  | { readonly kind: 'ready'; readonly inputNames: readonly string[]; readonly outputNames: readonly string[] }
  | { readonly kind: 'init-error'; readonly message: string }
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly depth: Float32Array;
      readonly width: number;
      readonly height: number;
      /** The input tensor, handed back so its buffer can be reused for the next frame. */
      readonly tensor: Float32Array;
      readonly preprocessMs: number;
      readonly inferenceMs: number;
    }
  | { readonly kind: 'run-error'; readonly id: number; readonly message: string; readonly tensor: Float32Array }
  /** After the first run of a GPU session: the nodes onnxruntime ran on the CPU (or why that is unknown). */
  | { readonly kind: 'placement'; readonly cpuNodes: readonly FallbackNode[] | null; readonly error?: string };
