/**
 * depth-video as a library. The CLI (src/cli) is a thin layer over this.
 *
 *   import { runPipeline } from 'depth-video';
 *   const summary = await runPipeline({ input: { kind: 'file', path: 'in.mp4' }, output: 'depth.mp4',
 *     model: 'dpt-tiny', sync: true, render: { colormap: 'inferno', invert: false, highContrast: false,
 *     layout: 'depth', stabilize: 'align', stabilizeWindow: 15 } });
 *
 * Or build your own flow from the stages: a FrameSource's frames$, the
 * `everyFrame` / `latestWins` operators, a DepthSession, a DepthRenderer and sinks.
 */
export * from './types.js';
export { DepthVideoError, isDepthVideoError, type ErrorCode } from './errors.js';
export { runBatch, type BatchOptions, type BatchHooks, type BatchPlan, type BatchProgress, type BatchSummary, type FileReport, type FileStatus } from './batch/run.js';
export { validateFileOptions, optionsHash, type FileOptions } from './batch/options.js';
export { runPipeline, type PipelineOptions, type PipelineInput, type PipelineHooks, type ProgressInfo, type RunSummary } from './pipeline/run.js';
export type { FrameDepth, FrameSink, OutputFrame, PipelineContext } from './pipeline/types.js';
export { loadPreset, parsePreset, type PipelinePreset } from './pipeline/preset.js';
export { ffmpegSource, type FrameSource, type SourceDamage, type SourceInfo, type FfmpegSourceOptions } from './sources/ffmpeg-source.js';
export { fileSource, type FileSourceOptions } from './sources/file-source.js';
export { scheduleFrames, newScheduleStats, type Scheduled, type ScheduleStats, type ScheduleOptions } from './schedule/scheduler.js';
export { RunControl } from './pipeline/control.js';
export { DepthSession, type DepthSessionOptions, type InferenceResult, type ModelDescription } from './inference/session.js';
export { computeInputSize, imageToTensor } from './inference/preprocess.js';
export { FAMILY_SPECS, specForFamily, type FamilyName } from './inference/families.js';
export { DepthRenderer, type RenderSettings, type RenderedDepth } from './render/renderer.js';
export * from './render/index.js';
export { DepthStabilizer, fitScaleShift, flicker, type StabilizeMode, type StabilizeOptions } from './stabilize/stabilize.js';
export { FfmpegEncoder, outputKind, type EncoderOptions } from './sinks/encoder.js';
export { encoderSink } from './sinks/encoder-sink.js';
export { encodePly, pointCloudSink, pointCloudPositions, type PointCloudSinkOptions } from './sinks/point-cloud.js';
export { depthFromInverse, focalLength, unprojectGrid, fitInversePlane, subtractInversePlane, DEFAULT_CAMERA, type CameraModel, type InversePlane } from './render/unproject.js';
export { probeMedia, type MediaInfo, type Rational } from './ffmpeg/probe.js';
export { ffmpegPath } from './ffmpeg/binary.js';
export { resolveModel, type ResolvedModel } from './models/resolve.js';
export { downloadFile } from './models/download.js';
export { readOnnxInfo, detectFamily, validateDepthIO, type OnnxInfo } from './models/onnx-info.js';
export { loadManifest, variantsOf, type ManifestEntry, type ManifestVariant } from './models/manifest.js';
export { detectInGraphNormalization, type InGraphNormalization } from './models/graph-normalization.js';
export { float16ToFloat32Array, float32ToFloat16Array } from './inference/float16.js';
export * as recorder from './sinks/recorder/index.js';
export { openCheckpoint, writeTorchCheckpoint, writeSafetensors, type Checkpoint, type TensorRef, type TensorDType } from './convert/checkpoint/index.js';
export { convertCheckpoint, CONVERTER_FAMILIES, type ConvertOptions, type ConvertResult, type ConverterFamily } from './convert/index.js';
